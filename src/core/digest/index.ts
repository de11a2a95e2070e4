/**
 * DigestIndex: the digest set of one monitored shape (a set of tables under one condition), kept up to date
 * per commit. Each change costs O(k): the row's old digest leaves and its new digest enters a large partitioned
 * IBLT, the strata estimator and the set summary, so a reconnecting peer gets an estimator at once and a table
 * of any size dividing its own by folding (O(cells), no pass over the rows). The index also maps rows to digests
 * and back, so a peer's request by digest can be answered with rows.
 */
import {Iblt} from './iblt.js'
import type {Digest} from './siphash.js'
import {defaultStrataShape, StrataEstimator, type StrataShape} from './strata.js'
import {emptySummary, type SetSummary, updateSummary} from './summary.js'

/** Sizes of an index; both sides of an exchange should use the same ones. */
export interface DigestIndexOptions {
  /** Hash functions of the IBLT (3 or 4). */
  readonly k: number
  /** Cells per sub-table of the maintained IBLT: the largest table this side can send or decode. */
  readonly subCellsMax: number
  /** Shape of the strata estimator. */
  readonly strata: StrataShape
}

/**
 * Defaults: k = 4 (k = 3 leaves ~1% of tables unpeelable at any size, k = 4 peels at ≥ 1.6 cells per difference;
 * bench/tools/digest-coding.ts) and 4 × 10080 cells: 630 KiB in memory per index, enough for ~25k differences.
 * 10080 = 2^5·3^2·5·7 has 72 divisors, spaced closely enough that the table sent is cut near the size needed
 * (with 2520 the sizes above 840 were 1260 and 2520: up to 50% of a large table was padding).
 */
export const defaultDigestIndexOptions: DigestIndexOptions = {k: 4, subCellsMax: 10080, strata: defaultStrataShape}

/**
 * A digest as a map key: its four 16-bit halves as UTF-16 units. Building 16 hex digits per row was ~10% of
 * digesting 1M rows (a CPU profile of the first exchange of a shape); four units hash and compare faster too.
 */
function keyOf(digest: Digest): string {
  return String.fromCharCode(digest.hi >>> 16, digest.hi & 0xffff, digest.lo >>> 16, digest.lo & 0xffff)
}

/** The digests of a set of rows, keyed by the caller's row id (e.g. table name and UUID). */
export class DigestIndex {
  readonly options: DigestIndexOptions
  private readonly table: Iblt
  private readonly estimatorLive: StrataEstimator
  private readonly summaryLive: SetSummary = emptySummary()
  private readonly digestByRow = new Map<string, Digest>()
  /** Each row's content check (a second digest), and their sums: see `check`. */
  private readonly checkByRow = new Map<string, Digest>()
  private checkSumHi = 0
  private checkSumLo = 0
  private readonly rowByDigest = new Map<string, string>()
  // Rows whose digest equals another row's (a 64-bit collision, or rows planted by someone who knows the salt).
  private readonly collided = new Map<string, string[]>()
  private collidedRows = 0

  constructor(options: Partial<DigestIndexOptions> = {}) {
    this.options = {...defaultDigestIndexOptions, ...options}
    this.table = new Iblt(this.options.k, this.options.subCellsMax)
    this.estimatorLive = new StrataEstimator(this.options.strata)
  }

  /** Rows in the set. */
  get size(): number {
    return this.digestByRow.size
  }

  /** Rows whose digest collides with another row's; while non-zero, reconciliation must use a snapshot. */
  get collisions(): number {
    return this.collidedRows
  }

  /**
   * Sets the digest of a row, inserting it or replacing its previous digest; `check` is its content check (a
   * digest under another key), summed into `check` even when the digest itself did not change. Returns whether
   * the digest or the check changed.
   */
  set(rowId: string, digest: Digest, check?: Digest): boolean {
    const old = this.digestByRow.get(rowId)
    if (old !== undefined) {
      if (old.hi === digest.hi && old.lo === digest.lo) return this.setCheck(rowId, check)
      this.delete(rowId)
    }
    this.setCheck(rowId, check)
    this.digestByRow.set(rowId, digest)
    const key = keyOf(digest)
    const holder = this.rowByDigest.get(key)
    if (holder === undefined) this.rowByDigest.set(key, rowId)
    else {
      this.collided.set(key, [...(this.collided.get(key) ?? []), rowId])
      this.collidedRows++
    }
    this.apply(digest, 1)
    return true
  }

  /** Removes a row; returns false when it was not in the set. */
  delete(rowId: string): boolean {
    const digest = this.digestByRow.get(rowId)
    if (digest === undefined) return false
    this.digestByRow.delete(rowId)
    this.setCheck(rowId, undefined)
    const key = keyOf(digest)
    const others = this.collided.get(key)
    if (others !== undefined) {
      this.collidedRows--
      const rest = others.filter((id) => id !== rowId)
      if (this.rowByDigest.get(key) === rowId) this.rowByDigest.set(key, rest.shift()!)
      if (rest.length === 0) this.collided.delete(key)
      else this.collided.set(key, rest)
    } else this.rowByDigest.delete(key)
    this.apply(digest, -1)
    return true
  }

  /**
   * The sums of the rows' content checks, as 16 hex digits. Two sets with the same digests but a row whose content
   * differs (two versions that collide in the 64-bit digest, which anyone who knows the salt can search for) have
   * different checks unless the content checks collide as well: 64 more bits.
   */
  get check(): string {
    return this.checkSumHi.toString(16).padStart(8, '0') + this.checkSumLo.toString(16).padStart(8, '0')
  }

  private setCheck(rowId: string, check: Digest | undefined): boolean {
    const old = this.checkByRow.get(rowId)
    if (old === check || (old !== undefined && check !== undefined && old.hi === check.hi && old.lo === check.lo)) return false
    if (old !== undefined) {
      this.checkSumHi = (this.checkSumHi - old.hi) >>> 0
      this.checkSumLo = (this.checkSumLo - old.lo) >>> 0
      this.checkByRow.delete(rowId)
    }
    if (check === undefined) return true
    this.checkSumHi = (this.checkSumHi + check.hi) >>> 0
    this.checkSumLo = (this.checkSumLo + check.lo) >>> 0
    this.checkByRow.set(rowId, check)
    return true
  }

  private apply(digest: Digest, sign: 1 | -1): void {
    this.table.update(digest.hi, digest.lo, sign)
    this.estimatorLive.update(digest.hi, digest.lo, sign)
    updateSummary(this.summaryLive, digest.hi, digest.lo, sign)
  }

  /** The digest of a row, if it is in the set. */
  digestOf(rowId: string): Digest | undefined {
    return this.digestByRow.get(rowId)
  }

  /** The content check of a row, if it is in the set with one. */
  checkOf(rowId: string): Digest | undefined {
    return this.checkByRow.get(rowId)
  }

  /** The row holding a digest, if any. */
  rowOf(digest: Digest): string | undefined {
    return this.rowByDigest.get(keyOf(digest))
  }

  /** Every row id in the set. */
  rows(): IterableIterator<string> {
    return this.digestByRow.keys()
  }

  /** A copy of the set summary. */
  summary(): SetSummary {
    return {...this.summaryLive}
  }

  /** A copy of the strata estimator. */
  estimator(): StrataEstimator {
    return this.estimatorLive.clone()
  }

  /** The set as a fresh IBLT of `subCells` cells per sub-table (a divisor of subCellsMax), checksums cut to `hashMask`. */
  tableOf(subCells: number, hashMask = 0xffffffff): Iblt {
    return this.table.fold(subCells, hashMask)
  }
}
