/**
 * Cheap 32-bit mixing of a 64-bit digest into cell indexes, cell checksums and strata. Digests are already
 * keyed pseudo-random values (SipHash under the server's salt), so these only need to spread bits well and be
 * independent of each other for different seeds; a fixed function is enough (Eppstein et al. 2011 §3 assume
 * random hash functions, which keyed digests plus a good mix approximate).
 */

/** Seeds, one per use, so the functions below are independent of each other. */
export const seeds = {
  check: 0x5bd1e995,
  stratum: 0x27d4eb2f,
  cell: 0x165667b1,
} as const

/** Murmur3 finaliser: full avalanche of a 32-bit value. */
function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** A 32-bit hash of the digest (hi, lo) under `seed`: Murmur3-32 of its 8 bytes. */
export function mix(hi: number, lo: number, seed: number): number {
  let h = seed
  let k = Math.imul(lo, 0xcc9e2d51)
  k = Math.imul((k << 15) | (k >>> 17), 0x1b873593)
  h ^= k
  h = (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0
  k = Math.imul(hi, 0xcc9e2d51)
  k = Math.imul((k << 15) | (k >>> 17), 0x1b873593)
  h ^= k
  h = (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0
  return fmix32(h ^ 8)
}

/** The cell checksum of a digest: what a pure cell's hashSum must equal. */
export function checkHash(hi: number, lo: number): number {
  return mix(hi, lo, seeds.check)
}

/** Trailing zero bits of x (32 for 0). */
export function trailingZeros(x: number): number {
  return x === 0 ? 32 : 31 - Math.clz32(x & -x)
}
