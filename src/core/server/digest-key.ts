/**
 * The server's digest key on disk (db-serve --digest-key-file): 16 random bytes as 32 hex digits, from which
 * each database's digest salt is derived (digest-shapes.ts). Keeping it across restarts lets clients reuse the
 * digests of their replica; without it a restarted server has a new salt and clients re-digest their rows once.
 */
import {randomBytes} from 'node:crypto'
import fs from 'node:fs/promises'

/** Reads the key at `file`, creating it (mode 0600) when it does not exist; throws naming a malformed file. */
export async function loadOrCreateDigestKey(file: string): Promise<Uint8Array> {
  let text: string
  try {
    text = await fs.readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`Cannot read digest key "${file}": ${(err as Error).message}`)
    const key = randomBytes(16)
    // "wx": two servers started at once must not each write their own key.
    await fs.writeFile(file, key.toString('hex') + '\n', {mode: 0o600, flag: 'wx'}).catch(async (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw new Error(`Cannot create digest key "${file}": ${e.message}`)
    })
    text = await fs.readFile(file, 'utf8')
  }
  const hex = text.trim()
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new Error(`Cannot use digest key "${file}": 32 lowercase hex digits expected`)
  return Uint8Array.from(Buffer.from(hex, 'hex'))
}
