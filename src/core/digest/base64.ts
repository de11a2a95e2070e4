/**
 * Strict base64 (RFC 4648 §4, with padding) for carrying digest messages in JSON-RPC strings. Strict on input:
 * any character outside the alphabet, or bad padding, is refused rather than skipped, so damage is reported.
 */
import {DigestDecodeError} from './errors.js'

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const values = new Int16Array(128).fill(-1)
for (let i = 0; i < alphabet.length; i++) values[alphabet.charCodeAt(i)] = i

const alphabetCodes = Uint8Array.from(alphabet, (c) => c.charCodeAt(0))
// ASCII bytes to a string in one call: a character at a time cost ~90 ms for a 100 KB table in a cold process.
const ascii = new TextDecoder('latin1')

/** Encodes bytes as padded base64. */
export function toBase64(bytes: Uint8Array): string {
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4)
  const whole = bytes.length - (bytes.length % 3)
  let o = 0
  for (let i = 0; i < whole; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2]
    out[o++] = alphabetCodes[n >> 18]
    out[o++] = alphabetCodes[(n >> 12) & 63]
    out[o++] = alphabetCodes[(n >> 6) & 63]
    out[o++] = alphabetCodes[n & 63]
  }
  if (whole < bytes.length) {
    const b1 = whole + 1 < bytes.length ? bytes[whole + 1] : 0
    const n = (bytes[whole] << 16) | (b1 << 8)
    out[o++] = alphabetCodes[n >> 18]
    out[o++] = alphabetCodes[(n >> 12) & 63]
    out[o++] = whole + 1 < bytes.length ? alphabetCodes[(n >> 6) & 63] : 0x3d
    out[o++] = 0x3d
  }
  return ascii.decode(out)
}

function refuse(text: string, at: number): never {
  throw new DigestDecodeError('base64', `character ${JSON.stringify(text[at])} at offset ${at} is not base64`)
}

/** Decodes padded base64; throws DigestDecodeError (code "base64") on anything else. */
export function fromBase64(text: string): Uint8Array {
  if (text.length % 4 !== 0) throw new DigestDecodeError('base64', `length ${text.length} is not a multiple of 4`)
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0
  const out = new Uint8Array((text.length / 4) * 3 - padding)
  let o = 0
  for (let i = 0; i < text.length; i += 4) {
    const last = i + 4 === text.length
    const c0 = text.charCodeAt(i)
    const c1 = text.charCodeAt(i + 1)
    const c2 = text.charCodeAt(i + 2)
    const c3 = text.charCodeAt(i + 3)
    const v0 = c0 < 128 ? values[c0] : -1
    const v1 = c1 < 128 ? values[c1] : -1
    const v2 = last && padding === 2 ? 0 : c2 < 128 ? values[c2] : -1
    const v3 = last && padding >= 1 ? 0 : c3 < 128 ? values[c3] : -1
    if ((v0 | v1 | v2 | v3) < 0) refuse(text, i + [v0, v1, v2, v3].findIndex((v) => v < 0))
    const n = (v0 << 18) | (v1 << 12) | (v2 << 6) | v3
    out[o++] = n >> 16
    if (o < out.length) out[o++] = (n >> 8) & 0xff
    if (o < out.length) out[o++] = n & 0xff
  }
  return out
}
