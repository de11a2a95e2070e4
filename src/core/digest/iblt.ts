/**
 * The invertible Bloom lookup table (Goodrich and Mitzenmacher 2011; used for set difference by Eppstein,
 * Goodrich, Uyeda and Varghese, "What's the Difference?", SIGCOMM 2011, §3). Each cell holds {count, keySum,
 * hashSum}: adding a 64-bit digest XORs it into keySum and its checksum into hashSum of k cells and adds ±1 to
 * their counts, so a table is a linear sketch: subtracting the table of one set from the table of another leaves
 * exactly the symmetric difference, which peeling recovers.
 *
 * The table is partitioned: hash function j picks cell h_j mod s in sub-table j only, so an element never hits
 * the same cell twice. Since (h mod S) mod s = h mod s when s divides S, a table of S cells per sub-table folds
 * into any table whose size divides S in O(cells): cell i of the small table sums the big cells i, i+s, i+2s...
 * That lets a server keep one large table up to date per commit and cut the size a reconnecting client needs;
 * S is chosen with many divisors (see tableSizeAtLeast) so the cut fits the need closely.
 *
 * Counts are compared modulo 256: the wire carries one byte per count (a full table of n rows has large
 * counts, but only their low byte matters for finding cells of count ±1 in a difference, and the checksum
 * confirms every such cell).
 */
import {checkHash, mix, seeds} from './mix.js'
import type {Digest} from './siphash.js'

/** Shape of a table: the same shape on both sides is required to subtract. */
export interface IbltShape {
  /** Hash functions per element, one per sub-table (3 or 4, §5.1 of the paper). */
  readonly k: number
  /** Cells in each sub-table. */
  readonly subCells: number
  /** Bits of hashSum that are kept (0xffffffff, or 0xffff for the compact strata cells). */
  readonly hashMask: number
}

/** Hash functions allowed; the paper finds 3 or 4 best for the sizes reconciliation needs. */
export const ibltKs: readonly number[] = [3, 4]

/** Largest sub-table, in cells: bounds memory and message size. */
export const ibltSubCellsMax = 1 << 20

/** The smallest divisor of `subCellsMax` that is at least `subCells`: table sizes that fold from the maximum. */
export function tableSizeAtLeast(subCells: number, subCellsMax: number): number | undefined {
  for (let s = Math.max(1, Math.ceil(subCells)); s <= subCellsMax; s++) if (subCellsMax % s === 0) return s
  return undefined
}

/** Throws RangeError unless the shape is one this module produces. */
export function assertShape(shape: IbltShape): void {
  const {k, subCells, hashMask} = shape
  if (!ibltKs.includes(k)) throw new RangeError(`Cannot use IBLT with k = ${k}: ${ibltKs.join(' or ')} expected`)
  if (!Number.isInteger(subCells) || subCells < 1 || subCells > ibltSubCellsMax) {
    throw new RangeError(`Cannot use IBLT sub-table of ${subCells} cells: an integer from 1 to ${ibltSubCellsMax} expected`)
  }
  if (hashMask !== 0xffffffff && hashMask !== 0xffff) {
    throw new RangeError(`Cannot use IBLT hash mask ${hashMask}: 0xffffffff or 0xffff expected`)
  }
}

/** An IBLT: four parallel arrays of cells, k sub-tables of `subCells` cells each. */
export class Iblt implements IbltShape {
  readonly count: Int32Array
  readonly keyHi: Uint32Array
  readonly keyLo: Uint32Array
  readonly hash: Uint32Array

  constructor(readonly k: number, readonly subCells: number, readonly hashMask = 0xffffffff) {
    assertShape(this)
    const cells = k * subCells
    this.count = new Int32Array(cells)
    this.keyHi = new Uint32Array(cells)
    this.keyLo = new Uint32Array(cells)
    this.hash = new Uint32Array(cells)
  }

  /** Total cells. */
  get cells(): number {
    return this.k * this.subCells
  }

  /** Index of the cell that hash function j picks for the digest (hi, lo). */
  cellOf(j: number, hi: number, lo: number): number {
    return j * this.subCells + (mix(hi, lo, seeds.cell ^ Math.imul(j + 1, 0x9e3779b9)) % this.subCells)
  }

  /** Adds (sign 1) or removes (sign -1) the digest (hi, lo): O(k). */
  update(hi: number, lo: number, sign: 1 | -1): void {
    const check = checkHash(hi, lo) & this.hashMask
    for (let j = 0; j < this.k; j++) {
      const c = this.cellOf(j, hi, lo)
      this.count[c] += sign
      this.keyHi[c] ^= hi
      this.keyLo[c] ^= lo
      this.hash[c] ^= check
    }
  }

  /** Adds one digest. */
  add(digest: Digest): void {
    this.update(digest.hi, digest.lo, 1)
  }

  /** Removes one digest (the sketch of a multiset: removing what was never added leaves count -1). */
  remove(digest: Digest): void {
    this.update(digest.hi, digest.lo, -1)
  }

  /** True when every cell is zero: the table of the empty (multi)set, up to counts modulo 256. */
  isEmpty(): boolean {
    for (let c = 0; c < this.cells; c++) {
      if ((this.count[c] & 0xff) !== 0 || this.keyHi[c] !== 0 || this.keyLo[c] !== 0 || (this.hash[c] & this.hashMask) !== 0) {
        return false
      }
    }
    return true
  }

  /** A copy. */
  clone(): Iblt {
    const copy = new Iblt(this.k, this.subCells, this.hashMask)
    copy.count.set(this.count)
    copy.keyHi.set(this.keyHi)
    copy.keyLo.set(this.keyLo)
    copy.hash.set(this.hash)
    return copy
  }

  /** this − other, cell by cell: the table of (this set) − (other set). Throws RangeError on a shape mismatch. */
  subtract(other: Iblt): Iblt {
    if (other.k !== this.k || other.subCells !== this.subCells) {
      throw new RangeError(
        `Cannot subtract IBLT of ${other.k}×${other.subCells} cells from one of ${this.k}×${this.subCells}: shapes differ`,
      )
    }
    const out = new Iblt(this.k, this.subCells, (this.hashMask & other.hashMask) >>> 0)
    for (let c = 0; c < this.cells; c++) {
      out.count[c] = this.count[c] - other.count[c]
      out.keyHi[c] = this.keyHi[c] ^ other.keyHi[c]
      out.keyLo[c] = this.keyLo[c] ^ other.keyLo[c]
      out.hash[c] = (this.hash[c] ^ other.hash[c]) & out.hashMask
    }
    return out
  }

  /** The same set in a table of `subCells` cells per sub-table (a divisor of this table's), keeping `hashMask` of the checksums. */
  fold(subCells: number, hashMask = this.hashMask): Iblt {
    if (this.subCells % subCells !== 0) {
      throw new RangeError(`Cannot fold IBLT of ${this.subCells} cells per sub-table into ${subCells}: not a divisor`)
    }
    const out = new Iblt(this.k, subCells, (hashMask & this.hashMask) >>> 0)
    for (let j = 0; j < this.k; j++) {
      for (let i = 0; i < this.subCells; i++) {
        const from = j * this.subCells + i
        const to = j * subCells + (i % subCells)
        out.count[to] += this.count[from]
        out.keyHi[to] ^= this.keyHi[from]
        out.keyLo[to] ^= this.keyLo[from]
        out.hash[to] ^= this.hash[from]
      }
    }
    if (out.hashMask !== 0xffffffff) for (let c = 0; c < out.cells; c++) out.hash[c] &= out.hashMask
    return out
  }
}

/** What peeling a difference table found. */
export type PeelResult =
  | {readonly ok: true; readonly onlyLocal: Digest[]; readonly onlyRemote: Digest[]}
  | {readonly ok: false; readonly reason: 'stuck' | 'inconsistent'; readonly peeled: number}

/** Sign of a cell that holds exactly one element (count ±1 modulo 256 and a matching checksum), else 0. */
function pureSign(t: Iblt, c: number): 1 | -1 | 0 {
  const count = t.count[c] & 0xff
  if (count !== 1 && count !== 0xff) return 0
  if ((checkHash(t.keyHi[c], t.keyLo[c]) & t.hashMask) !== (t.hash[c] & t.hashMask)) return 0
  return count === 1 ? 1 : -1
}

/**
 * Peels a difference table (local − remote, paper §3.2): repeatedly take a pure cell, record its element and
 * remove it from its k cells. Succeeds only if every cell ends at zero. A cell is pure when its count is ±1, its
 * checksum matches its key and its key hashes to that very cell: a cell that passes the checksum by chance (1 in
 * 2^16 with compact checksums, and checked thousands of times in a large table) but holds an element that does
 * not belong there is skipped, not trusted; if the table does not empty, such cells mark it "inconsistent"
 * (corrupt or forged) rather than merely "stuck". More elements than the table could hold is inconsistent too.
 * Never returns a wrong answer it could detect. Consumes `diff`.
 */
export function peel(diff: Iblt): PeelResult {
  const onlyLocal: Digest[] = []
  const onlyRemote: Digest[] = []
  // A table of m cells cannot decode more than m elements (each needs a cell of its own to be pure once).
  const peeledMax = diff.cells
  let misplaced = 0
  const queue: number[] = []
  for (let c = 0; c < diff.cells; c++) if (pureSign(diff, c) !== 0) queue.push(c)
  while (queue.length > 0) {
    const c = queue.pop()!
    const sign = pureSign(diff, c)
    if (sign === 0) continue
    const hi = diff.keyHi[c]
    const lo = diff.keyLo[c]
    const j = Math.floor(c / diff.subCells)
    const peeled = onlyLocal.length + onlyRemote.length
    if (peeled >= peeledMax) return {ok: false, reason: 'inconsistent', peeled}
    if (diff.cellOf(j, hi, lo) !== c) {
      misplaced++
      continue
    }
    ;(sign === 1 ? onlyLocal : onlyRemote).push({hi, lo})
    diff.update(hi, lo, sign === 1 ? -1 : 1)
    for (let jj = 0; jj < diff.k; jj++) {
      const cc = diff.cellOf(jj, hi, lo)
      if (cc !== c && pureSign(diff, cc) !== 0) queue.push(cc)
    }
  }
  const peeled = onlyLocal.length + onlyRemote.length
  if (diff.isEmpty()) return {ok: true, onlyLocal, onlyRemote}
  return {ok: false, reason: misplaced > 0 ? 'inconsistent' : 'stuck', peeled}
}
