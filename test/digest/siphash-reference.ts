/**
 * SipHash-2-4 written the naive way, with BigInt and straight from the paper's description (§2): the oracle that
 * the 32-bit implementation is checked against, and the baseline bench/tools/digest-coding.ts measures it against.
 */
const mask64 = (1n << 64n) - 1n

function rotl(x: bigint, b: bigint): bigint {
  return ((x << b) | (x >> (64n - b))) & mask64
}

function word(bytes: Uint8Array, at: number, count: number): bigint {
  let w = 0n
  for (let i = count - 1; i >= 0; i--) w = (w << 8n) | BigInt(bytes[at + i])
  return w
}

/** SipHash-2-4 of `message` under the 16-byte `key`, as an unsigned 64-bit BigInt. */
export function sipHash24Reference(key: Uint8Array, message: Uint8Array): bigint {
  const k0 = word(key, 0, 8)
  const k1 = word(key, 8, 8)
  const v = [k0 ^ 0x736f6d6570736575n, k1 ^ 0x646f72616e646f6dn, k0 ^ 0x6c7967656e657261n, k1 ^ 0x7465646279746573n]
  const round = () => {
    v[0] = (v[0] + v[1]) & mask64; v[1] = rotl(v[1], 13n); v[1] ^= v[0]; v[0] = rotl(v[0], 32n)
    v[2] = (v[2] + v[3]) & mask64; v[3] = rotl(v[3], 16n); v[3] ^= v[2]
    v[0] = (v[0] + v[3]) & mask64; v[3] = rotl(v[3], 21n); v[3] ^= v[0]
    v[2] = (v[2] + v[1]) & mask64; v[1] = rotl(v[1], 17n); v[1] ^= v[2]; v[2] = rotl(v[2], 32n)
  }
  const whole = message.length - (message.length % 8)
  const words: bigint[] = []
  for (let at = 0; at < whole; at += 8) words.push(word(message, at, 8))
  words.push(word(message, whole, message.length - whole) | (BigInt(message.length & 0xff) << 56n))
  for (const m of words) {
    v[3] ^= m
    round()
    round()
    v[0] ^= m
  }
  v[2] ^= 0xffn
  for (let i = 0; i < 4; i++) round()
  return v[0] ^ v[1] ^ v[2] ^ v[3]
}
