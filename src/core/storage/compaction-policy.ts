/**
 * When a standalone database compacts itself, following ovsdb-server(1), "ovsdb-server/compact": "A database is
 * also compacted automatically when a transaction is logged if it is over 2 times as large as its previous
 * compacted size (and at least 10 MB), but not before 100 commits have been added or 10 minutes have elapsed
 * since the last compaction. It will also be compacted automatically after 24 hours since the last compaction if
 * 100 commits were added regardless of its size." (OVS 3.1). We read "not before 100 commits or 10 minutes" as
 * both being required, and "10 MB" as 10 MiB, as ovsdb-server counts it. ovsdb-server also spreads the 10 minutes
 * with a random delay of its own; a caller that wants that adds jitter to `minIntervalMs`. Pure: time is a parameter.
 */

/** The thresholds of the rule, with units. */
export interface CompactionPolicy {
  /** The log must be at least this large, in bytes. */
  bytesMin: number
  /** ... and more than this many times its size after the last compaction. */
  growthFactor: number
  /** Commits added since the last compaction before any automatic compaction. */
  commitsMin: number
  /** Time since the last compaction before a size-triggered compaction, in ms. */
  intervalMinMs: number
  /** Time since the last compaction after which any log with commitsMin commits is compacted, in ms. */
  intervalMaxMs: number
}

/** The figures of ovsdb-server(1) 3.1 quoted above. */
export const defaultCompactionPolicy: CompactionPolicy = {
  bytesMin: 10 * 1024 * 1024,
  growthFactor: 2,
  commitsMin: 100,
  intervalMinMs: 10 * 60 * 1000,
  intervalMaxMs: 24 * 60 * 60 * 1000,
}

/** What the rule looks at; `FileLog.stats()` provides the sizes and counts. */
export interface CompactionState {
  nowMs: number
  /** When the log was last compacted, or opened if it was not compacted since, in ms. */
  lastCompactionMs: number
  bytes: number
  bytesAtLastCompaction: number
  /** Transaction records added since the last compaction (or in the file, if none since open). */
  commitsSinceCompaction: number
}

/** True if the log should be compacted now, by the rule of ovsdb-server(1) quoted above. */
export function shouldCompact(state: CompactionState, policy: CompactionPolicy = defaultCompactionPolicy): boolean {
  if (state.commitsSinceCompaction < policy.commitsMin) return false
  const elapsedMs = state.nowMs - state.lastCompactionMs
  if (elapsedMs >= policy.intervalMaxMs) return true
  if (elapsedMs < policy.intervalMinMs) return false
  return state.bytes >= policy.bytesMin && state.bytes > policy.growthFactor * state.bytesAtLastCompaction
}

/** The sizes and counts a log reports (the shape of `FileLog.stats()`). */
export interface CompactionHistory {
  bytes: number
  records: number
  bytesAtLastCompaction: number
  recordsAtLastCompaction: number
  lastCompactionMs?: number
  openedMs: number
}

/** The rule's input from a log's history: before any compaction, the open time and all records read count. */
export function compactionStateOf(history: CompactionHistory, nowMs: number): CompactionState {
  return {
    nowMs,
    lastCompactionMs: history.lastCompactionMs ?? history.openedMs,
    bytes: history.bytes,
    bytesAtLastCompaction: history.bytesAtLastCompaction,
    commitsSinceCompaction: history.records - history.recordsAtLastCompaction,
  }
}
