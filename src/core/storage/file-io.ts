/** Small file helpers shared by the standalone and clustered logs: whole writes, and durable renames. */
import {promises as fsp} from 'node:fs'
import type {FileHandle} from 'node:fs/promises'

/** Writes all of `data` at `position`, however many write(2) calls it takes. */
export async function writeAll(fd: FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0
  while (done < data.length) {
    const {bytesWritten} = await fd.write(data, done, data.length - done, position + done)
    done += bytesWritten
  }
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
