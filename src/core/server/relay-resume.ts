/**
 * The first monitor of a relay that started from its replica cache: asked with monitor_cond_digest
 * (src/core/idl/resume.ts), so that the source answers from its history when it still holds the cached
 * transaction (ovsdb-server(7) §4.1.15), else by difference digests (only the rows that differ travel), else with a
 * snapshot. A source that does not know monitor_cond_digest (the real ovsdb-server) is asked monitor_cond_since.
 */
import {randomBytes} from 'node:crypto'
import type {DigestedReplica, TableUpdates2} from '../idl/digest-replica.js'
import {ReplicaMonitor, type ResumeMethod} from '../idl/resume.js'
import type {JsonRpcConnection} from '../jsonrpc/index.js'

/** Digest salt bytes (src/core/digest/salt.ts). */
const saltBytes = 16

/** What the first monitor cost and brought. */
export interface CacheResume {
  method: ResumeMethod
  /** The source transaction the replica is now current at. */
  txnId: string
  /** The whole replica, as "initial" rows: the relay applies it as a snapshot, which yields only real differences. */
  rows: TableUpdates2
  /** Bytes the source sent during the exchange. */
  bytes: number
  /** Rows that changed. */
  changed: number
}

/**
 * Brings `replica` (read from the cache) up to date over `conn` with a monitor of id `monitorId`; the connection's
 * handler is the ReplicaMonitor's meanwhile, and the caller's again (`restore`) before anything else is read.
 */
export async function resumeFromCache(conn: JsonRpcConnection, replica: DigestedReplica, opts: {monitorId: string; timeoutMs: number; restore: () => void}): Promise<CacheResume> {
  // The cache does not keep the source's salt: a salt of our own makes the source answer with its salt first (one
  // round trip, allowed once per exchange by resume.ts), rather than a snapshot straight away.
  if (replica.salt === null) replica.setSalt(randomBytes(saltBytes))
  const monitor = new ReplicaMonitor(conn, replica, {monitorId: opts.monitorId, timeoutMs: opts.timeoutMs, digestRowsMin: 0})
  let report
  try {
    report = await monitor.start()
  } finally {
    opts.restore()
  }
  const rows: TableUpdates2 = {}
  for (const t of replica.shape.tables) {
    const out: Record<string, Record<string, unknown>> = (rows[t.name] = {})
    for (const uuid of replica.replica.uuids(t.name)) out[uuid] = {initial: replica.replica.row(t.name, uuid)!}
  }
  return {method: report.method, txnId: replica.lastTxnId, rows, bytes: report.bytesReceived, changed: report.events.length}
}

/** Rows in <table-updates2>. */
export function rowsIn(updates: unknown): number {
  let n = 0
  for (const rows of Object.values((updates ?? {}) as Record<string, object>)) n += Object.keys(rows ?? {}).length
  return n
}
