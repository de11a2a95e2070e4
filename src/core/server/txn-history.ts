/**
 * The recent transactions a database keeps so that monitor_cond_since clients resume with only what changed
 * (ovsdb-server(7) §4.1.15). Bounded by bytes, not by a count: OVS keeps the last 100 transactions whatever
 * their size, which a busy Southbound database runs through in seconds.
 */
import type {Changes, Datum, Row} from '../ovsdb/index.js'

/** The zero UUID: "no transaction" in monitor_cond_since (ovsdb-server(7) §4.1.15). */
export const zeroUuid = '00000000-0000-0000-0000-000000000000'

/** One entry of the history kept for monitor_cond_since. */
export interface HistoryEntry {
  readonly txnId: string
  readonly changes: Changes
  /** Estimated bytes the entry holds. */
  readonly bytes: number
}

/** Named bounds of the history. */
export interface HistoryLimits {
  /** Transactions kept at most. */
  historyTxnsMax: number
  /** Estimated bytes of row data kept at most (see changesBytes). */
  historyBytesMax: number
}

/** Defaults: 64 MiB of row data, and a count far beyond OVS's 100 transactions that the bytes bound meets first. */
export const defaultHistoryLimits: HistoryLimits = {historyTxnsMax: 100_000, historyBytesMax: 64 * 1024 * 1024}

/**
 * Heap cost of one row change besides its row (the maps that hold it, the change, the Row and its columns
 * object), and of one datum and one atom, in bytes: measured on V8 (Node 20), so that historyBytesMax bounds
 * what the history really holds within some tens of percent.
 */
const rowChangeOverheadBytes = 600
const datumOverheadBytes = 48
const atomBytes = 16

function datumBytes(d: Datum): number {
  // Indexed loops: this runs over every element of every changed row at each commit, and an iterator per
  // array was a fifth of what a commit allocated with a few large sets.
  return datumOverheadBytes + atomsBytes(d.keys) + (d.values === undefined ? 0 : atomsBytes(d.values))
}

function atomsBytes(atoms: readonly unknown[]): number {
  let n = 0
  for (let i = 0; i < atoms.length; i++) {
    const a = atoms[i]
    n += typeof a === 'string' ? a.length + atomBytes : atomBytes
  }
  return n
}

function rowBytes(row: Row): number {
  let n = 0
  for (const name in row.columns) n += datumBytes(row.columns[name])
  return n
}

/**
 * Estimated bytes of heap one commit's changes keep alive in the history: per changed row, the version it
 * replaced (the new one lives in the database, or in a later entry) or the row it inserted. An estimate, so
 * that bounding the history costs a walk of the changed rows, not a serialization.
 */
export function changesBytes(changes: Changes): number {
  let n = 0
  for (const rows of changes.values()) {
    for (const change of rows.values()) n += rowChangeOverheadBytes + rowBytes((change.old ?? change.new)!)
  }
  return n
}

/** Position of an id that names more than one commit. */
const ambiguous = -1

/** The history of one database: entries in commit order, oldest dropped first once a bound is passed. */
export class TxnHistory {
  private entries: HistoryEntry[] = []
  /** Index in `entries` of the oldest entry kept (dropping moves it rather than shifting the array). */
  private head = 0
  private readonly positions = new Map<string, number>()
  /** Absolute position of entries[0]. */
  private offset = 0
  private totalBytes = 0
  /** The transaction just before the oldest entry kept: a client there needs every entry. */
  private baseTxnId = zeroUuid

  constructor(readonly limits: HistoryLimits) {}

  /** Entries kept. */
  get length(): number {
    return this.entries.length - this.head
  }

  /** Estimated bytes kept. */
  get bytes(): number {
    return this.totalBytes
  }

  /** Forgets everything; `baseTxnId` is the state the next entry follows (e.g. a snapshot's). */
  reset(baseTxnId = zeroUuid): void {
    this.entries = []
    this.head = 0
    this.offset = 0
    this.positions.clear()
    this.totalBytes = 0
    this.baseTxnId = baseTxnId
  }

  /** Records one commit, then drops the oldest entries until both bounds hold. */
  push(txnId: string, changes: Changes): void {
    const bytes = changesBytes(changes)
    // Two commits under one id (two identical standalone records): a client at that id cannot be placed.
    this.positions.set(txnId, this.positions.has(txnId) || txnId === this.baseTxnId ? ambiguous : this.offset + this.entries.length)
    this.entries.push({txnId, changes, bytes})
    this.totalBytes += bytes
    while (this.length > 0 && (this.length > this.limits.historyTxnsMax || this.totalBytes > this.limits.historyBytesMax)) this.dropOldest()
    // Dropped slots are reclaimed in bulk, so that dropping stays O(1) per entry.
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head)
      this.offset += this.head
      this.head = 0
    }
  }

  private dropOldest(): void {
    const oldest = this.entries[this.head]
    this.entries[this.head] = undefined as unknown as HistoryEntry
    this.head++
    if (this.positions.get(oldest.txnId) === this.offset + this.head - 1) this.positions.delete(oldest.txnId)
    this.totalBytes -= oldest.bytes
    this.baseTxnId = oldest.txnId
  }

  /** Commits made after `txnId` (empty when it is the last one), or null when the history does not reach back that far. */
  since(txnId: string, lastTxnId: string): HistoryEntry[] | null {
    if (txnId === zeroUuid) return null
    const at = this.positions.get(txnId)
    if (at === ambiguous) return null
    if (txnId === lastTxnId) return []
    if (txnId === this.baseTxnId) return this.entries.slice(this.head)
    return at === undefined ? null : this.entries.slice(at - this.offset + 1)
  }
}
