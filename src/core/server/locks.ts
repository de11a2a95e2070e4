/**
 * Database locks (RFC 7047 §4.1.8–4.1.11): named, server-wide, held by at most one session, with a queue of
 * waiters that are told "locked" when their turn comes and a "steal" that takes a lock from its owner, who is
 * told "stolen".
 */

/** What a lock holder or waiter is, to the lock table. */
export interface LockClient {
  notify(method: 'locked' | 'stolen', params: unknown[]): void
}

/**
 * Where a server's locks live: its own table, or (an I/O thread) the table of the database thread, reached
 * asynchronously, so that a lock is one lock across every thread of the process (RFC 7047 §4.1.8).
 */
export interface Locks {
  lock(name: string, client: LockClient): boolean | Promise<boolean>
  steal(name: string, client: LockClient): void | Promise<void>
  unlock(name: string, client: LockClient): void
  holds(name: string, client: LockClient): boolean
  readonly size: number
}

/** The server's lock table. */
export class LockTable implements Locks {
  private readonly queues = new Map<string, LockClient[]>()

  /** Queues `client` for `name`; true when it holds the lock at once. */
  lock(name: string, client: LockClient): boolean {
    const queue = this.queues.get(name)
    if (queue === undefined) {
      this.queues.set(name, [client])
      return true
    }
    queue.push(client)
    return false
  }

  /** Gives `name` to `client` at once; the previous owner, if any, is told "stolen" and keeps waiting. */
  steal(name: string, client: LockClient): void {
    const queue = this.queues.get(name)
    if (queue === undefined) {
      this.queues.set(name, [client])
      return
    }
    const previous = queue[0]
    const at = queue.indexOf(client)
    if (at >= 0) queue.splice(at, 1)
    queue.unshift(client)
    // OVS drops the robbed owner from the queue entirely; it must ask again (ovsdb-server lock.c).
    if (previous !== client) {
      queue.splice(queue.indexOf(previous), 1)
      previous.notify('stolen', [name])
    }
  }

  /** Releases or stops waiting for `name`; the next waiter is told "locked". */
  unlock(name: string, client: LockClient): void {
    const queue = this.queues.get(name)
    if (queue === undefined) return
    const at = queue.indexOf(client)
    if (at < 0) return
    queue.splice(at, 1)
    if (queue.length === 0) this.queues.delete(name)
    else if (at === 0) queue[0].notify('locked', [name])
  }

  /** True when `client` owns `name`. */
  holds(name: string, client: LockClient): boolean {
    return this.queues.get(name)?.[0] === client
  }

  /** Number of locks with an owner. */
  get size(): number {
    return this.queues.size
  }
}
