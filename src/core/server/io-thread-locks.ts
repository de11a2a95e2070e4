/**
 * The locks of an I/O thread's clients, held in the database thread's one lock table so that a lock is one lock
 * across the process (RFC 7047 §4.1.8–4.1.11: "lock", "steal", "unlock", "locked", "stolen"). Each client that
 * locks gets a channel of its own to the database thread, which serves it as one more session: the lock table
 * there sees one holder per client, queues them fairly, and tells the right client "locked" or "stolen". The
 * I/O thread mirrors what each client holds, for the "assert" operations it checks before forwarding a write.
 */
import type {JsonRpcConnection} from '../jsonrpc/index.js'
import type {LockClient, Locks} from './locks.js'

/** A client's channel to the database thread's lock table, and the locks it holds there. */
interface Channel {
  readonly conn: JsonRpcConnection
  /** Locks asked for (held or waited for), until unlocked. */
  readonly asked: Set<string>
  readonly held: Set<string>
}

/** Locks of an I/O thread, kept by the database thread. */
export class ForwardedLocks implements Locks {
  private readonly channels = new Map<LockClient, Channel>()

  /** `dial` opens a new channel to the database thread. */
  constructor(private readonly dial: () => JsonRpcConnection) {}

  /** Locks held by this thread's clients. */
  get size(): number {
    let held = 0
    for (const ch of this.channels.values()) held += ch.held.size
    return held
  }

  /** Asks for `name` on the client's behalf; true when it holds it at once. */
  async lock(name: string, client: LockClient): Promise<boolean> {
    const ch = this.channel(client)
    ch.asked.add(name)
    const reply = (await ch.conn.request('lock', [name])) as {locked?: unknown}
    if (reply?.locked === true && ch.asked.has(name)) ch.held.add(name)
    return reply?.locked === true
  }

  /** Takes `name` for the client; its owner (on any thread) is told "stolen". */
  async steal(name: string, client: LockClient): Promise<void> {
    const ch = this.channel(client)
    ch.asked.add(name)
    await ch.conn.request('steal', [name])
    if (ch.asked.has(name)) ch.held.add(name)
  }

  /** Releases or stops waiting for `name`; a client without locks left closes its channel. */
  unlock(name: string, client: LockClient): void {
    const ch = this.channels.get(client)
    if (ch === undefined) return
    ch.asked.delete(name)
    ch.held.delete(name)
    if (ch.asked.size > 0) {
      ch.conn.request('unlock', [name]).catch(() => {})
      return
    }
    // Closing the channel ends its session there, which releases what it held.
    this.channels.delete(client)
    ch.conn.close('the client holds no more locks')
  }

  /** True when the client owns `name`, as the database thread last said. */
  holds(name: string, client: LockClient): boolean {
    return this.channels.get(client)?.held.has(name) ?? false
  }

  private channel(client: LockClient): Channel {
    let ch = this.channels.get(client)
    if (ch !== undefined) return ch
    const conn = this.dial()
    const made: Channel = {conn, asked: new Set(), held: new Set()}
    ch = made
    conn.setHandler({
      onRequest: (method, params, id) => (method === 'echo' ? conn.respond(id, params) : conn.respondError(id, {error: 'unknown method'})),
      onNotification: (method, params) => {
        const lock = Array.isArray(params) ? String(params[0]) : ''
        if (!made.asked.has(lock)) return
        if (method === 'locked') made.held.add(lock)
        else if (method === 'stolen') (made.held.delete(lock), made.asked.delete(lock))
        else return
        client.notify(method, [lock])
        // A robbed client must ask again (OVS drops it from the queue): without locks, its channel goes.
        if (made.asked.size === 0 && this.channels.get(client) === made) (this.channels.delete(client), conn.close('the client holds no more locks'))
      },
    })
    conn.onClose(() => {
      // The database thread went away (a shutdown): the client's locks went with it.
      if (this.channels.get(client) !== made) return
      this.channels.delete(client)
      for (const lock of made.held) client.notify('stolen', [lock])
    })
    this.channels.set(client, made)
    return made
  }
}
