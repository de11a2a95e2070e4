/**
 * A set summary: the element count and two additive 32-bit sums of independent hashes of the elements. It is
 * kept next to every IBLT and travels in every message header. Peeling success already implies the XOR and the
 * counts modulo 256 agree, so the summary checks what the IBLT cannot: after applying a decoded difference the
 * client's summary must equal the server's, otherwise the answer is discarded (a wrong answer then needs a
 * 2^-64 coincidence on top of a false peel). Equal summaries at the start mean the sets are already equal.
 */
import {mix} from './mix.js'
import type {Digest} from './siphash.js'

/** Count and additive hash sums of a multiset of digests. */
export interface SetSummary {
  count: number
  sumA: number
  sumB: number
}

const seedA = 0x3c6ef372
const seedB = 0xa54ff53a

/** The summary of the empty set. */
export function emptySummary(): SetSummary {
  return {count: 0, sumA: 0, sumB: 0}
}

/** Adds (sign 1) or removes (sign -1) one digest, in place. */
export function updateSummary(summary: SetSummary, hi: number, lo: number, sign: 1 | -1): void {
  summary.count = (summary.count + sign) >>> 0
  summary.sumA = (summary.sumA + sign * mix(hi, lo, seedA)) >>> 0
  summary.sumB = (summary.sumB + sign * mix(hi, lo, seedB)) >>> 0
}

/** The summary after adding `added` and removing `removed`, leaving `base` unchanged. */
export function applyToSummary(base: SetSummary, added: readonly Digest[], removed: readonly Digest[]): SetSummary {
  const out = {...base}
  for (const d of added) updateSummary(out, d.hi, d.lo, 1)
  for (const d of removed) updateSummary(out, d.hi, d.lo, -1)
  return out
}

/** True when both summaries are equal. */
export function summariesEqual(a: SetSummary, b: SetSummary): boolean {
  return a.count === b.count && a.sumA === b.sumA && a.sumB === b.sumB
}
