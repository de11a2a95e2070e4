/**
 * What a clustered database does with its log, as pure functions: applying an entry's transaction, telling
 * whether this server left the cluster, and the changes between two states of a database (after a rebuild).
 */
import {applyLogRecord, type Changes, type Database} from '../ovsdb/index.js'
import type {PersistedState} from '../raft/index.js'
import type {ClusterData} from '../storage/raft-records.js'
import type {TxnHistory} from './txn-history.js'

/**
 * Whether the server `id` left its cluster for good: a committed configuration once held it and the latest
 * committed one does not (a server that left may never rejoin, ovsdb-server(1) cluster/leave).
 */
export function hasLeft(state: PersistedState, id: string): boolean {
  let was = Object.hasOwn(state.snapshot.servers, id)
  let is = was
  for (const e of state.entries) {
    if (e.index > state.hardState.commit) break
    if (e.kind !== 'servers') continue
    is = Object.hasOwn(e.servers, id)
    was ||= is
  }
  return was && !is
}

/** Applies an entry's <cluster-txn> to `db`; returns its changes (null when it carried no transaction). */
export function applyEntry(db: Database, content: ClusterData): Changes | null {
  if (content.data[0] !== null) throw new Error('Schema changes through the cluster are not supported yet')
  return content.data[1] === null ? null : applyLogRecord(db, content.data[1])
}

/**
 * Applies the committed entries after the snapshot (whose eid is `snapshotEid`) and records each in `history`
 * under its eid, the transaction id monitors were told: clients resume across a restart. Returns the last eid
 * and the index of the last entry applied.
 */
export function replayCommitted(db: Database, state: PersistedState, snapshotEid: string, history: TxnHistory): {eid: string; applied: number} {
  let eid = snapshotEid
  let applied = state.snapshot.index
  history.reset(eid)
  for (const e of state.entries) {
    if (e.index > state.hardState.commit) break
    if (e.kind === 'command') {
      const changes = applyEntry(db, e.data as ClusterData)
      eid = (e.data as ClusterData).eid
      if (changes !== null && changes.size > 0) history.push(eid, changes)
    }
    applied = e.index
  }
  return {eid, applied}
}

/** The row changes that turn `from` into `to`, for monitors after a rebuild. */
export function diffDatabases(from: Database, to: Database): Changes {
  const out: Changes = new Map()
  for (const ts of to.schema.tables.values()) {
    const a = from.table(ts.name).rows
    const b = to.table(ts.name).rows
    const rows = new Map()
    for (const [uuid, row] of a) {
      const other = b.get(uuid)
      if (other === undefined) rows.set(uuid, {old: row, new: null})
      else if (other !== row) rows.set(uuid, {old: row, new: other})
    }
    for (const [uuid, row] of b) if (!a.has(uuid)) rows.set(uuid, {old: null, new: row})
    if (rows.size > 0) out.set(ts.name, rows)
  }
  return out
}
