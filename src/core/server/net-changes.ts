/** Folding consecutive commits into one, for resuming a monitor from history (ovsdb-server(7) §4.1.15). */
import type {Changes, RowChange} from '../ovsdb/index.js'

/** The net effect of consecutive commits: per row, its state before the first and after the last. */
export function netChanges(list: Changes[]): Changes {
  if (list.length === 1) return list[0]
  const out: Changes = new Map()
  for (const changes of list) mergeChangesInto(out, changes)
  return out
}

/**
 * Folds `changes` into `target` in place (newer row state replaces older, per row); only the tables `keep`
 * accepts are taken. `target` owns its maps: those of `changes` (shared with history) are never changed.
 */
export function mergeChangesInto(target: Changes, changes: Changes, keep: (table: string) => boolean = () => true): void {
  for (const [table, rows] of changes) {
    if (!keep(table)) continue
    let tableOut = target.get(table)
    if (tableOut === undefined) target.set(table, (tableOut = new Map()))
    for (const [uuid, change] of rows) {
      const earlier = tableOut.get(uuid)
      const merged: RowChange = earlier === undefined ? change : {old: earlier.old, new: change.new}
      if (merged.old === null && merged.new === null) tableOut.delete(uuid)
      else tableOut.set(uuid, merged)
    }
  }
}
