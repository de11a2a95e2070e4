/** Small file helpers shared by the standalone and clustered logs: whole writes, and durable renames. */
import fs, {promises as fsp} from 'node:fs'
import type {FileHandle} from 'node:fs/promises'

/** Writes all of `data` at `position`, however many write(2) calls it takes. */
export async function writeAll(fd: FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0
  while (done < data.length) {
    const {bytesWritten} = await fd.write(data, done, data.length - done, position + done)
    done += bytesWritten
  }
}

/**
 * Writes all of `data` at `position` without leaving the event loop: for the small appends of a log, a write(2)
 * into the page cache costs less than a round trip through the thread pool.
 */
export function writeAllSync(fd: number, data: Buffer, position: number): void {
  let done = 0
  while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done, position + done)
}

/** Makes a rename or a new directory entry durable (POSIX: fsync of the directory itself). */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await fsp.open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
