/**
 * Refuses a second ovnctl writer of the same database file. ovsdb-server and ovsdb-tool lock `.<name>.~lock~` with
 * fcntl(2), which Node cannot do, so that lock is NOT honoured: nothing stops ovsdb-server and ovnctl writing the
 * same file at once. Between ovnctl processes we use our own lock file, `.<name>.~ovnctl-lock~`, holding the PID of
 * its owner; a lock whose PID is no longer running is stale and taken over (a reused PID makes a stale lock look
 * live: remove the file by hand then).
 */
import {promises as fsp} from 'node:fs'
import path from 'node:path'
import {StorageError} from './errors.js'

/** Attempts to take the lock when stale locks are found and removed in between (two racing takers). */
export const lockAttemptsMax = 3

/** The lock file of ovnctl beside `dbPath`. */
export function lockPathFor(dbPath: string): string {
  return path.join(path.dirname(dbPath), `.${path.basename(dbPath)}.~ovnctl-lock~`)
}

/** An exclusive, PID-stamped lock on one database file, held until released. */
export class PidLock {
  private constructor(readonly lockPath: string) {}

  /** Takes the lock of `dbPath` for this process; throws StorageError 'locked' if a live process holds it. */
  static async acquire(dbPath: string): Promise<PidLock> {
    const lockPath = lockPathFor(dbPath)
    // The PID is written to a private file first and hard-linked into place, so a reader never sees an empty lock.
    const temp = `${lockPath}.${process.pid}`
    await fsp.writeFile(temp, `${process.pid}\n`, {mode: 0o600})
    try {
      for (let attempt = 1; attempt <= lockAttemptsMax; attempt++) {
        try {
          await fsp.link(temp, lockPath)
          return new PidLock(lockPath)
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(dbPath, err)
        }
        const owner = await readOwner(lockPath)
        if (owner !== null && isRunning(owner)) {
          throw new StorageError('locked', `Cannot open "${dbPath}" for writing: locked by ovnctl process ${owner} (${lockPath})`)
        }
        await fsp.rm(lockPath, {force: true})
      }
      throw new StorageError('locked', `Cannot open "${dbPath}" for writing: lock ${lockPath} keeps changing hands`)
    } finally {
      await fsp.rm(temp, {force: true})
    }
  }

  /** Removes the lock file if it is still ours. */
  async release(): Promise<void> {
    if ((await readOwner(this.lockPath)) === process.pid) await fsp.rm(this.lockPath, {force: true})
  }
}

async function readOwner(lockPath: string): Promise<number | null> {
  try {
    const pid = Number.parseInt(await fsp.readFile(lockPath, 'utf8'), 10)
    return Number.isInteger(pid) && pid > 0 ? pid : null
  } catch {
    return null
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function ioError(dbPath: string, err: unknown): StorageError {
  return new StorageError('io', `Cannot lock "${dbPath}": ${(err as Error).message}`, {cause: err})
}
