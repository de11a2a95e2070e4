/**
 * Random (version 4) UUIDs as flat strings. node:crypto's randomUUID builds its result by concatenation, which
 * V8 keeps as a rope of some thirty pieces: about a kilobyte per UUID when it is stored, and every row stores
 * two (_uuid and _version). Writing the text into a buffer and decoding it once gives a flat 36-byte string.
 */
import {randomFillSync} from 'node:crypto'

const poolBytes = 4096
const pool = Buffer.alloc(poolBytes)
let poolAt = poolBytes
const text = Buffer.alloc(36)
const hex = Buffer.from('0123456789abcdef')
/** Byte offsets in the text where each of the 16 bytes' two hex digits go. */
const positions = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34]

/** A new random UUID (RFC 4122 version 4), as a flat lowercase string. */
export function newUuid(): string {
  if (poolAt + 16 > poolBytes) {
    randomFillSync(pool)
    poolAt = 0
  }
  pool[poolAt + 6] = (pool[poolAt + 6] & 0x0f) | 0x40
  pool[poolAt + 8] = (pool[poolAt + 8] & 0x3f) | 0x80
  for (let i = 0; i < 16; i++) {
    const byte = pool[poolAt + i]
    text[positions[i]] = hex[byte >> 4]
    text[positions[i] + 1] = hex[byte & 15]
  }
  text[8] = text[13] = text[18] = text[23] = 0x2d
  poolAt += 16
  return text.toString('latin1')
}
