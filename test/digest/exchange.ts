/**
 * Test driver for reconcilePlan: carries the messages between a client and a server index as the wiring will,
 * applies what the client is told (delete rows, take the rows or the snapshot the server sends), and can damage
 * messages in transit.
 */
import type {DigestIndex} from '../../src/core/digest/index.js'
import {
  clientStart,
  clientStep,
  type ReconcileContext,
  type ReconcileReply,
  type ReconcileRequest,
  serverStep,
} from '../../src/core/digest/plan.js'

/** What happened in one exchange. */
export interface ExchangeLog {
  outcome: string
  roundTrips: number
  bytes: number
  tables: number
  transcript: string[]
}

/** Options of the driver: a hook that may change each reply in transit. */
export interface ExchangeOptions {
  damageReply?: (reply: ReconcileReply, round: number) => ReconcileReply
  roundTripsMax?: number
}

/** Runs one exchange to its end, updating the client index to mirror the server's. */
export function exchange(server: ReconcileContext, client: ReconcileContext, options: ExchangeOptions = {}): ExchangeLog {
  const log: ExchangeLog = {outcome: '', roundTrips: 0, bytes: 0, tables: 0, transcript: []}
  let step = clientStart(client)
  while (step.send !== undefined) {
    if (log.roundTrips >= (options.roundTripsMax ?? 10)) throw new Error(`no end after ${log.roundTrips} round trips: ${log.transcript.join(' ')}`)
    const request: ReconcileRequest = step.send
    let reply = serverStep(server, request)
    if (options.damageReply) reply = options.damageReply(reply, log.roundTrips)
    log.roundTrips++
    log.bytes += JSON.stringify(request).length + JSON.stringify(reply).length
    if (reply.type === 'table') log.tables++
    log.transcript.push(`${request.type}→${reply.type}`)
    deliverRows(server.index, client.index, reply)
    step = clientStep(client, step.state, reply)
    for (const rowId of step.deleteRowIds ?? []) client.index.delete(rowId)
  }
  if (step.state.phase !== 'done') throw new Error(`exchange stopped in phase ${step.state.phase}: ${log.transcript.join(' ')}`)
  log.outcome = step.state.outcome
  return log
}

/** What the wiring does with "rows" and "snapshot": the server's current rows reach the client replica. */
function deliverRows(server: DigestIndex, client: DigestIndex, reply: ReconcileReply): void {
  if (reply.type === 'snapshot') {
    for (const rowId of [...client.rows()]) if (server.digestOf(rowId) === undefined) client.delete(rowId)
    for (const rowId of server.rows()) client.set(rowId, server.digestOf(rowId)!)
  }
  if (reply.type === 'rows') for (const rowId of reply.rowIds) client.set(rowId, server.digestOf(rowId)!)
}

/** The rows of an index with their digests, sorted: for comparing two replicas. */
export function contents(index: DigestIndex): string[] {
  return [...index.rows()].map((row) => `${row}=${index.digestOf(row)!.hi}:${index.digestOf(row)!.lo}`).sort()
}
