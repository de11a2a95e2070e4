/**
 * Strict base64 (RFC 4648 §4, with padding) for carrying digest messages in JSON-RPC strings. Strict on input:
 * any character outside the alphabet, or bad padding, is refused rather than skipped, so damage is reported.
 */
import {DigestDecodeError} from './errors.js'

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const values = new Int16Array(128).fill(-1)
for (let i = 0; i < alphabet.length; i++) values[alphabet.charCodeAt(i)] = i

/** Encodes bytes as padded base64. */
export function toBase64(bytes: Uint8Array): string {
  const parts: string[] = []
  let chunk = ''
  for (let i = 0; i < bytes.length; i += 3) {
    const b0 = bytes[i]
    const b1 = i + 1 < bytes.length ? bytes[i + 1] : 0
    const b2 = i + 2 < bytes.length ? bytes[i + 2] : 0
    chunk +=
      alphabet[b0 >> 2] +
      alphabet[((b0 & 3) << 4) | (b1 >> 4)] +
      (i + 1 < bytes.length ? alphabet[((b1 & 15) << 2) | (b2 >> 6)] : '=') +
      (i + 2 < bytes.length ? alphabet[b2 & 63] : '=')
    if (chunk.length >= 4096) {
      parts.push(chunk)
      chunk = ''
    }
  }
  parts.push(chunk)
  return parts.join('')
}

function value(text: string, at: number): number {
  const code = text.charCodeAt(at)
  const v = code < 128 ? values[code] : -1
  if (v < 0) throw new DigestDecodeError('base64', `character ${JSON.stringify(text[at])} at offset ${at} is not base64`)
  return v
}

/** Decodes padded base64; throws DigestDecodeError (code "base64") on anything else. */
export function fromBase64(text: string): Uint8Array {
  if (text.length % 4 !== 0) throw new DigestDecodeError('base64', `length ${text.length} is not a multiple of 4`)
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0
  const out = new Uint8Array((text.length / 4) * 3 - padding)
  let o = 0
  for (let i = 0; i < text.length; i += 4) {
    const last = i + 4 === text.length
    const v0 = value(text, i)
    const v1 = value(text, i + 1)
    const v2 = last && padding === 2 ? 0 : value(text, i + 2)
    const v3 = last && padding >= 1 ? 0 : value(text, i + 3)
    const n = (v0 << 18) | (v1 << 12) | (v2 << 6) | v3
    out[o++] = n >> 16
    if (o < out.length) out[o++] = (n >> 8) & 0xff
    if (o < out.length) out[o++] = n & 0xff
  }
  return out
}
