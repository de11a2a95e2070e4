/**
 * [cache] What a MonitoredDb needs to keep its replica in a cache file and to resume from it (or from memory, after
 * a reconnect) by history, digests or a snapshot (src/core/idl/resume.ts) instead of fetching every row again.
 */
import type {DatabaseSchema} from '../ovsdb/index.js'
import {loadReplicaCache, ReplicaCacheError} from './cache.js'
import {DigestedReplica, type ReplicaShape} from './digest-replica.js'
import type {ReplicaEvent} from './replica.js'

/** A monitored table as a shape needs it: columns (all when absent) and condition (all rows when absent). */
export interface ShapeSource {
  columns?: string[]
  where?: unknown[]
}

/** The shape of what is monitored now. */
export function shapeOf(db: string, schema: DatabaseSchema, tables: ReadonlyMap<string, ShapeSource>): ReplicaShape {
  return {
    db,
    schema,
    tables: [...tables].map(([name, m]) => ({
      name,
      columns: m.columns ?? [...schema.tables.get(name)!.columns.keys()].filter((c) => !c.startsWith('_')),
      where: m.where ?? null,
    })),
  }
}

/**
 * The cached replica of `file` when it holds the same database, schema version, tables and columns; its conditions
 * may differ from the current ones (a restarted client starts from the view it had and narrows or widens it
 * afterwards). `reason` says why the file was not used; no file is no reason.
 */
export async function loadCachedReplica(file: string, shape: ReplicaShape): Promise<{replica: DigestedReplica | null; reason?: string}> {
  let cached: DigestedReplica
  try {
    cached = await loadReplicaCache(file)
  } catch (err) {
    if (err instanceof ReplicaCacheError && /ENOENT/.test(err.message)) return {replica: null}
    return {replica: null, reason: (err as Error).message}
  }
  const same =
    cached.shape.db === shape.db &&
    cached.shape.schema.version === shape.schema.version &&
    cached.shape.tables.length === shape.tables.length &&
    shape.tables.every((t) => {
      const c = cached.shape.tables.find((x) => x.name === t.name)
      return c !== undefined && [...c.columns].sort().join() === [...t.columns].sort().join()
    })
  if (!same) return {replica: null, reason: `"${file}" holds another database, schema version, table set or column set`}
  return {replica: cached}
}

/**
 * The rows of `old` as a replica of `shape` (the conditions changed since `old` was made). Its last transaction is
 * kept only if a commit arrived after the last condition change (`txnAtChange`, or null when none changed): rows a
 * new condition brought in are as of no transaction, so history could miss rows that entered without changing.
 */
export function reshape(old: DigestedReplica, shape: ReplicaShape, txnAtChange: string | null): DigestedReplica {
  const next = new DigestedReplica(shape)
  if (old.salt !== null) next.setSalt(old.salt)
  const rows: {table: string; uuid: string; row: Record<string, unknown>}[] = []
  for (const t of shape.tables) for (const uuid of old.replica.uuids(t.name)) rows.push({table: t.name, uuid, row: old.replica.row(t.name, uuid)!})
  next.replaceRows(rows)
  next.lastTxnId = txnAtChange !== null && old.lastTxnId === txnAtChange ? '' : old.lastTxnId
  return next
}

/** Every row of `replica` as "initial" events, for an owner that starts from nothing. */
export function allRows(replica: DigestedReplica): ReplicaEvent[] {
  const events: ReplicaEvent[] = []
  for (const t of replica.shape.tables) {
    for (const uuid of replica.replica.uuids(t.name)) events.push({table: t.name, uuid, action: 'initial', row: replica.replica.row(t.name, uuid)!})
  }
  return events
}
