/**
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", INDOCRYPT 2012) in 32-bit
 * arithmetic. Row digests are keyed so that someone who does not hold the current salt cannot choose rows whose
 * digests collide (a collision would hide a difference from reconciliation). Each 64-bit word of the state is
 * kept as two uint32 halves in one typed array: measured (bench/tools/digest-coding.ts) several times faster than
 * BigInt, which allocates on every operation.
 */

/** A 64-bit value as two uint32 halves: the digest element used throughout this module. */
export interface Digest {
  /** Bits 63..32. */
  readonly hi: number
  /** Bits 31..0. */
  readonly lo: number
}

/** A SipHash key: 16 bytes, read as two little-endian 64-bit words (k0, k1) as in the paper §2. */
export interface SipKey {
  readonly k0: Digest
  readonly k1: Digest
}

/** Bytes in a SipHash key. */
export const sipKeyBytes = 16

/** Reads a 16-byte key; throws RangeError when the length is wrong. */
export function sipKey(bytes: Uint8Array): SipKey {
  if (bytes.length !== sipKeyBytes) {
    throw new RangeError(`Cannot use SipHash key of ${bytes.length} bytes: ${sipKeyBytes} bytes expected`)
  }
  return {k0: {lo: readU32(bytes, 0), hi: readU32(bytes, 4)}, k1: {lo: readU32(bytes, 8), hi: readU32(bytes, 12)}}
}

function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0
}

// State layout: v0 = (s[0] hi, s[1] lo), v1 = (s[2], s[3]), v2 = (s[4], s[5]), v3 = (s[6], s[7]).
const state = new Uint32Array(8)

/** n SipRounds on `state` (paper §2, Figure 2: add, rotate, xor on the four words). */
function sipRounds(s: Uint32Array, n: number): void {
  let v0h = s[0], v0l = s[1], v1h = s[2], v1l = s[3], v2h = s[4], v2l = s[5], v3h = s[6], v3l = s[7]
  let t: number
  for (let r = 0; r < n; r++) {
    // v0 += v1; v1 <<<= 13; v1 ^= v0; v0 <<<= 32
    t = (v0l + v1l) >>> 0; v0h = (v0h + v1h + (t < v0l ? 1 : 0)) >>> 0; v0l = t
    t = v1h; v1h = ((v1h << 13) | (v1l >>> 19)) >>> 0; v1l = ((v1l << 13) | (t >>> 19)) >>> 0
    v1h ^= v0h; v1l ^= v0l
    t = v0h; v0h = v0l; v0l = t
    // v2 += v3; v3 <<<= 16; v3 ^= v2
    t = (v2l + v3l) >>> 0; v2h = (v2h + v3h + (t < v2l ? 1 : 0)) >>> 0; v2l = t
    t = v3h; v3h = ((v3h << 16) | (v3l >>> 16)) >>> 0; v3l = ((v3l << 16) | (t >>> 16)) >>> 0
    v3h ^= v2h; v3l ^= v2l
    // v0 += v3; v3 <<<= 21; v3 ^= v0
    t = (v0l + v3l) >>> 0; v0h = (v0h + v3h + (t < v0l ? 1 : 0)) >>> 0; v0l = t
    t = v3h; v3h = ((v3h << 21) | (v3l >>> 11)) >>> 0; v3l = ((v3l << 21) | (t >>> 11)) >>> 0
    v3h ^= v0h; v3l ^= v0l
    // v2 += v1; v1 <<<= 17; v1 ^= v2; v2 <<<= 32
    t = (v2l + v1l) >>> 0; v2h = (v2h + v1h + (t < v2l ? 1 : 0)) >>> 0; v2l = t
    t = v1h; v1h = ((v1h << 17) | (v1l >>> 15)) >>> 0; v1l = ((v1l << 17) | (t >>> 15)) >>> 0
    v1h ^= v2h; v1l ^= v2l
    t = v2h; v2h = v2l; v2l = t
  }
  s[0] = v0h; s[1] = v0l; s[2] = v1h; s[3] = v1l; s[4] = v2h; s[5] = v2l; s[6] = v3h; s[7] = v3l
}

/** One message word m = (hi, lo): v3 ^= m; two rounds; v0 ^= m (paper §2, compression). */
function absorb(s: Uint32Array, hi: number, lo: number): void {
  s[6] ^= hi
  s[7] ^= lo
  sipRounds(s, 2)
  s[0] ^= hi
  s[1] ^= lo
}

/** SipHash-2-4 of `message` under `key`, as a 64-bit digest (the reference code's little-endian output). */
export function sipHash24(key: SipKey, message: Uint8Array): Digest {
  const s = state
  // Initialisation constants: "somepseudorandomlygeneratedbytes" (paper §2).
  s[0] = key.k0.hi ^ 0x736f6d65; s[1] = key.k0.lo ^ 0x70736575
  s[2] = key.k1.hi ^ 0x646f7261; s[3] = key.k1.lo ^ 0x6e646f6d
  s[4] = key.k0.hi ^ 0x6c796765; s[5] = key.k0.lo ^ 0x6e657261
  s[6] = key.k1.hi ^ 0x74656462; s[7] = key.k1.lo ^ 0x79746573
  const length = message.length
  const whole = length - (length % 8)
  for (let at = 0; at < whole; at += 8) absorb(s, readU32(message, at + 4), readU32(message, at))
  // Last word: the remaining bytes, then the length mod 256 in the top byte.
  let lo = 0
  let hi = (length & 0xff) << 24
  for (let at = whole; at < length; at++) {
    const shift = (at - whole) * 8
    if (shift < 32) lo |= message[at] << shift
    else hi |= message[at] << (shift - 32)
  }
  absorb(s, hi >>> 0, lo >>> 0)
  s[5] ^= 0xff
  sipRounds(s, 4)
  return {hi: (s[0] ^ s[2] ^ s[4] ^ s[6]) >>> 0, lo: (s[1] ^ s[3] ^ s[5] ^ s[7]) >>> 0}
}
