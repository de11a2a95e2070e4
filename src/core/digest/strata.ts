/**
 * The strata estimator (Eppstein et al. 2011 §4.1): the size of the difference must be known to size the IBLT,
 * so each side first keeps L small IBLTs ("strata"); an element goes to stratum i with probability 2^-(i+1)
 * (the trailing zeros of a hash), the last stratum taking the rest. Subtracting two estimators and decoding from
 * the top stratum down until one fails gives count × 2^(i+1) as the estimate (Algorithm 2 of the paper).
 *
 * Cells here are compact (a 16-bit key folded from the digest, and a 16-bit checksum): the estimator needs counts,
 * not exact keys, and is sent on every reconnect, so it is kept small (see bench/tools/digest-coding.ts). Two
 * differing digests whose keys collide in one stratum (~0.5% of strata at their capacity) only make that stratum
 * fail to decode, which lowers the estimate as any failing stratum does.
 */
import {Iblt, peel} from './iblt.js'
import {mix, seeds, trailingZeros} from './mix.js'
import type {Digest} from './siphash.js'

/** Shape of an estimator; both sides must use the same one. */
export interface StrataShape {
  /** Number of strata, L. */
  readonly strata: number
  /** Hash functions per stratum IBLT. */
  readonly k: number
  /** Cells per sub-table of each stratum. */
  readonly subCells: number
}

/**
 * Default shape: 11 strata × 4 × 6 cells, 5 bytes a cell, 1364 bytes on the wire (the paper's 32 × 80 full cells
 * would be ~40 KB, five times the whole budget for d = 100). Eleven strata estimate differences up to about
 * 2^10 × 12 ≈ 12k, above what the default index decodes. Measured estimate/true ratio: median ~0.96, 5th
 * percentile ~0.64, 95th ~1.4 (bench/tools/digest-coding.ts), which the plan's sizeFactor absorbs.
 */
export const defaultStrataShape: StrataShape = {strata: 11, k: 4, subCells: 6}

/** Largest number of strata accepted (32-bit stratum hash). */
export const strataMax = 32

/** L stratum IBLTs, updated in O(k) per added or removed digest. */
export class StrataEstimator {
  readonly strata: Iblt[]

  constructor(readonly shape: StrataShape = defaultStrataShape) {
    if (!Number.isInteger(shape.strata) || shape.strata < 1 || shape.strata > strataMax) {
      throw new RangeError(`Cannot use ${shape.strata} strata: 1 to ${strataMax} expected`)
    }
    this.strata = Array.from({length: shape.strata}, () => new Iblt(shape.k, shape.subCells, 0xffff))
  }

  /** Adds (1) or removes (-1) a digest: it goes, as a 16-bit key, into one stratum. */
  update(hi: number, lo: number, sign: 1 | -1): void {
    const i = Math.min(trailingZeros(mix(hi, lo, seeds.stratum)), this.shape.strata - 1)
    const key = hi ^ lo
    this.strata[i].update(0, (key ^ (key >>> 16)) & 0xffff, sign)
  }

  /** Adds one digest. */
  add(digest: Digest): void {
    this.update(digest.hi, digest.lo, 1)
  }

  /** Removes one digest. */
  remove(digest: Digest): void {
    this.update(digest.hi, digest.lo, -1)
  }

  /** A deep copy. */
  clone(): StrataEstimator {
    const copy = new StrataEstimator(this.shape)
    this.strata.forEach((stratum, i) => (copy.strata[i] = stratum.clone()))
    return copy
  }
}

/**
 * Estimated size of the symmetric difference of the two sets. Exact when every stratum decodes; Infinity when
 * even the top strata do not (the difference is too large for this estimator: send a snapshot instead).
 *
 * One change to Algorithm 2 of the paper: a stratum that fails while the one below it (twice the load) decodes
 * did not fail for its load but by a coincidence of tiny tables, two of its few elements sharing all k cells
 * ((1/6)^4 per pair here). Stopping there estimated 2^(i+1) per element found above it, and for the top stratum
 * Infinity: a snapshot in 2 of 3,000 exchanges of 1,333 differing digests (bench/tools/digest-failures.ts). Such
 * a stratum counts what it peeled plus the two elements stuck, and decoding goes on.
 */
export function estimateDifference(local: StrataEstimator, remote: StrataEstimator): number {
  const {strata, k, subCells} = local.shape
  const r = remote.shape
  if (r.strata !== strata || r.k !== k || r.subCells !== subCells) {
    throw new RangeError(`Cannot compare strata estimators of different shapes: ${JSON.stringify(local.shape)} and ${JSON.stringify(r)}`)
  }
  const decode = (i: number) => peel(local.strata[i].subtract(remote.strata[i]))
  let count = 0
  for (let i = strata - 1; i >= 0; i--) {
    const result = decode(i)
    if (result.ok) {
      count += result.onlyLocal.length + result.onlyRemote.length
      continue
    }
    if (i > 0 && decode(i - 1).ok) {
      count += result.peeled + 2
      continue
    }
    if (i === strata - 1) return Infinity
    // Stratum i failed, so it alone held more than the cells could peel: never estimate below one per stratum.
    return Math.max(count, 1) * 2 ** (i + 1)
  }
  return count
}
