/**
 * What `digest-sync` does, without the command-line shell: bring a replica up to date with a server, or compare
 * a replica (from a file, or fetched from another server) with a server by difference digests, reporting the
 * rows that differ and what the exchange cost.
 */
import type {JsonRpcConnection} from '../jsonrpc/index.js'
import type {DigestedReplica} from './digest-replica.js'
import type {ReplicaEvent} from './replica.js'
import {type ResumeReport, ReplicaMonitor} from './resume.js'

/** One row that differs between the reference server and the replica compared with it. */
export interface RowDifference {
  table: string
  uuid: string
  /** missing: the replica lacks the server's row; extra: only the replica has it; differs: both, with other values. */
  difference: 'missing' | 'extra' | 'differs'
  /** For "differs": the columns whose values differ. */
  columns: string[]
}

/** What one exchange cost and found. */
export interface SyncSummary {
  /** How the replica was compared: history, digest or snapshot. */
  method: ResumeReport['method']
  /** Rows compared: those the server holds for the shape. */
  rows: number
  differences: number
  /** Bytes on the wire, both directions. */
  bytes: number
  roundTrips: number
  ms: number
}

/** The differences an exchange found, from the replica's point of view. */
export function differencesOf(events: readonly ReplicaEvent[]): RowDifference[] {
  return events.map((e) => ({
    table: e.table,
    uuid: e.uuid,
    difference: e.action === 'delete' ? 'extra' : e.action === 'modify' ? 'differs' : 'missing',
    columns: e.changed ?? [],
  }))
}

/** Options of one exchange. */
export interface SyncOptions {
  timeoutMs: number
  /** Called after each round trip (progress). */
  onRound?: (round: number, what: string) => void
  /** Compare contents even when the server's history could answer (a check must look at the rows). */
  ignoreHistory?: boolean
  /** The clock for `ms`, in milliseconds. */
  now?: () => number
}

/**
 * Reconciles `replica` with the server on `conn` (which it then leaves monitoring: close it when done). The
 * replica ends equal to the server's rows; the events say how it differed.
 */
export async function reconcileReplica(
  conn: JsonRpcConnection,
  replica: DigestedReplica,
  options: SyncOptions,
): Promise<{summary: SyncSummary; differences: RowDifference[]}> {
  const now = options.now ?? (() => performance.now())
  if (options.ignoreHistory) replica.lastTxnId = ''
  const started = now()
  const monitor = new ReplicaMonitor(conn, replica, {timeoutMs: options.timeoutMs, onRound: options.onRound, monitorId: 'digest-sync'})
  const report = await monitor.start()
  const differences = differencesOf(report.events)
  const summary: SyncSummary = {
    method: report.method,
    rows: replica.size,
    differences: differences.length,
    bytes: report.bytesSent + report.bytesReceived,
    roundTrips: report.roundTrips,
    ms: Math.round(now() - started),
  }
  return {summary, differences}
}
