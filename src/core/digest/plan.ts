/**
 * reconcilePlan: the exchange that brings a client's replica level with the server, as a pure state machine
 * on each side (message in → message out; the server and client only carry the messages and the rows).
 *
 *   client                                   server
 *   estimate {estimator of its set}    →
 *                                      ←     in-sync | table {IBLT sized ~sizeFactor × estimate} | snapshot
 *   (subtract own table, peel, check the summaries)
 *   request {digests it lacks}         →     (deletes its rows that only it holds)
 *                                      ←     rows {row ids; the wiring attaches their contents}
 *
 * Two round trips when the first table peels (Eppstein et al. 2011 §4–5). When it does not (the estimate ran
 * low: ~5% of exchanges at sizeFactor 2), the client sends its own table, decodeGrowth times the size, and the
 * server peels it ("decode"): the server then knows both halves of the difference and answers with its rows and
 * the digests only the client holds, so the exchange still ends in the second round trip. Only if that table
 * fails too does the server send a table again (a third round trip), up to attemptsMax tables, and then a full
 * snapshot; a table that is refused (corrupt, wrong size, other schema or salt) leads to a retry ("grow") or
 * straight to the snapshot. The server keeps no state between messages: its DigestIndex is the state.
 */
import {fromBase64, toBase64} from './base64.js'
import {DigestDecodeError} from './errors.js'
import {peel, tableSizeAtLeast} from './iblt.js'
import type {DigestIndex} from './index.js'
import type {Digest} from './siphash.js'
import {estimateDifference} from './strata.js'
import {applyToSummary, summariesEqual} from './summary.js'
import {decodeDigestList, decodeEstimator, decodeTable, encodeDigestList, encodeEstimator, encodeTable} from './wire.js'

/** Client → server. `data` fields are base64 of the binary forms in wire.ts. */
export type ReconcileRequest =
  | {readonly type: 'estimate'; readonly subCellsMax: number; readonly data: string}
  | {readonly type: 'grow'; readonly subCells: number}
  | {readonly type: 'decode'; readonly data: string}
  | {readonly type: 'request'; readonly data: string}
  | {readonly type: 'snapshot'}

/** Server → client. For "rows" and "snapshot" the wiring sends the rows' contents along. */
export type ReconcileReply =
  | {readonly type: 'in-sync'}
  | {readonly type: 'table'; readonly data: string}
  | {readonly type: 'rows'; readonly rowIds: readonly string[]; readonly unknown: number; readonly deletes?: string}
  | {readonly type: 'snapshot'; readonly refused?: string}

/** Bounds of one exchange. */
export interface ReconcileLimits {
  /** Tables sent before giving up for a snapshot. */
  readonly attemptsMax: number
  /** IBLT cells per estimated difference: k = 4 peels at ≥ 1.6 cells per difference, and the strata estimate runs
   * low by up to ~35% (5th percentile). Measured with 16-bit cells at n = 100k (bench/tools/digest-coding.ts, 15
   * trials): 2.0 kept every exchange at d = 10, 100, 1000 to two round trips; 1.6 and 2.5 each needed a third in
   * some (too small a table; or, for 2.5, tiny tables whose peeling is less reliable), 2.5 also sent 10% more. */
  readonly sizeFactor: number
  /** Smallest table sent, in cells per sub-table. */
  readonly subCellsMin: number
  /** Size of the client's own table, sent when the server's did not peel, as a multiple of that table. */
  readonly decodeGrowth: number
}

/**
 * Defaults, chosen by bench/tools/digest-coding.ts and bench/tools/digest-failures.ts. With sizeFactor 2 the first
 * table fails in ~5% of exchanges (the estimate ran low); the client's own table, decodeGrowth = 3 times that
 * size, then peels in all but ~1 of 10,000 exchanges at 133 differing digests and 1 of 3,000 at 1,333 (see
 * BENCHMARKS.md). A larger sizeFactor buys the same only with bytes in every exchange: 3.0 still needed a third
 * round trip in 0.3% at d = 133 and sent 1.8 KB more.
 */
export const defaultReconcileLimits: ReconcileLimits = {attemptsMax: 3, sizeFactor: 2, subCellsMin: 8, decodeGrowth: 3}

/** One side's view of an exchange: its digest set and what both sides must agree on. */
export interface ReconcileContext {
  readonly index: DigestIndex
  /** Fingerprint of the schema and monitored condition. */
  readonly fingerprint: Digest
  /** Id of the salt the row digests were made with. */
  readonly saltId: number
  readonly limits?: Partial<ReconcileLimits>
}

function limitsOf(ctx: ReconcileContext): ReconcileLimits {
  return {...defaultReconcileLimits, ...ctx.limits}
}

function header(ctx: ReconcileContext) {
  return {fingerprint: ctx.fingerprint, saltId: ctx.saltId, summary: ctx.index.summary()}
}

function tableReply(ctx: ReconcileContext, subCells: number): ReconcileReply {
  // Compact (16-bit) checksums: what a false pure cell could slip past is caught by the summary check (onTable).
  return {type: 'table', data: toBase64(encodeTable(ctx.index.tableOf(subCells, 0xffff), header(ctx)))}
}


/** The server's answer to an estimate: in sync, a table sized from the estimated difference, or a snapshot. */
function answerEstimate(ctx: ReconcileContext, request: {subCellsMax: number; data: string}): ReconcileReply {
  const {index} = ctx
  const limits = limitsOf(ctx)
  const {estimator, summary} = decodeEstimator(fromBase64(request.data), {...ctx, shape: index.options.strata})
  if (summariesEqual(summary, index.summary())) return {type: 'in-sync'}
  const estimate = Math.max(1, estimateDifference(index.estimator(), estimator))
  const wanted = Math.max(limits.subCellsMin, (limits.sizeFactor * estimate) / index.options.k)
  const subCells = tableSizeAtLeast(wanted, index.options.subCellsMax)
  if (subCells === undefined || request.subCellsMax % subCells !== 0) return {type: 'snapshot'}
  return tableReply(ctx, subCells)
}

/**
 * The server peels the client's own table against its set: rows only the server holds are sent, digests only the
 * client holds are sent back for it to delete. When the table does not peel either, a server table twice its
 * size is sent (the exchange goes on as after "grow").
 */
function answerDecode(ctx: ReconcileContext, data: string): ReconcileReply {
  const {index} = ctx
  const {table, summary} = decodeTable(fromBase64(data), {...ctx, k: index.options.k, subCellsMax: index.options.subCellsMax})
  const result = peel(index.tableOf(table.subCells).subtract(table))
  const consistent = result.ok && summariesEqual(applyToSummary(summary, result.onlyLocal, result.onlyRemote), index.summary())
  if (!result.ok || !consistent) {
    const subCells = tableSizeAtLeast(table.subCells * 2, index.options.subCellsMax)
    return subCells === undefined ? {type: 'snapshot'} : tableReply(ctx, subCells)
  }
  const rowIds = result.onlyLocal.map((d) => index.rowOf(d)).filter((id) => id !== undefined)
  const deletes = toBase64(encodeDigestList(result.onlyRemote, header(ctx)))
  return {type: 'rows', rowIds, unknown: result.onlyLocal.length - rowIds.length, deletes}
}

/** The server side: answers one client message. Pure apart from reading `ctx.index`. */
export function serverStep(ctx: ReconcileContext, request: ReconcileRequest): ReconcileReply {
  if (ctx.index.collisions > 0 && request.type !== 'request') return {type: 'snapshot'}
  try {
    switch (request.type) {
      case 'estimate':
        return answerEstimate(ctx, request)
      case 'grow':
        if (!(request.subCells >= 1 && ctx.index.options.subCellsMax % request.subCells === 0)) return {type: 'snapshot'}
        return tableReply(ctx, request.subCells)
      case 'decode':
        return answerDecode(ctx, request.data)
      case 'request': {
        const {digests} = decodeDigestList(fromBase64(request.data), {...ctx, countMax: ctx.index.size})
        const rowIds = digests.map((d) => ctx.index.rowOf(d)).filter((id) => id !== undefined)
        return {type: 'rows', rowIds, unknown: digests.length - rowIds.length}
      }
      case 'snapshot':
        return {type: 'snapshot'}
    }
  } catch (error) {
    // A refused message (other schema, salt, corrupt): nothing to reconcile against, so send everything.
    if (error instanceof DigestDecodeError) return {type: 'snapshot', refused: error.message}
    throw error
  }
}

/** Where the client is in the exchange. */
export type ClientState =
  | {readonly phase: 'awaiting-table'; readonly subCells: number | undefined; readonly attempts: number}
  | {readonly phase: 'awaiting-rows'}
  | {readonly phase: 'awaiting-decode'; readonly subCells: number; readonly attempts: number}
  | {readonly phase: 'awaiting-snapshot'}
  | {readonly phase: 'done'; readonly outcome: 'in-sync' | 'rows' | 'snapshot'}

/** What the client must do after a step. */
export interface ClientStep {
  readonly state: ClientState
  /** Message for the server, if any. */
  readonly send?: ReconcileRequest
  /** Rows of the replica that the server does not hold (in this version): delete them now. */
  readonly deleteRowIds?: readonly string[]
}

/** Starts an exchange: the client's first message. */
export function clientStart(ctx: ReconcileContext): ClientStep {
  const data = toBase64(encodeEstimator(ctx.index.estimator(), header(ctx)))
  return {
    state: {phase: 'awaiting-table', subCells: undefined, attempts: 0},
    send: {type: 'estimate', subCellsMax: ctx.index.options.subCellsMax, data},
  }
}

const snapshotStep: ClientStep = {state: {phase: 'awaiting-snapshot'}, send: {type: 'snapshot'}}

/** A table failed to peel or was refused: ask for a bigger (or, after corruption, the same) one, or give up. */
function retry(ctx: ReconcileContext, attempts: number, wanted: number): ClientStep {
  const subCells = tableSizeAtLeast(wanted, ctx.index.options.subCellsMax)
  if (attempts >= limitsOf(ctx).attemptsMax || subCells === undefined) return snapshotStep
  return {state: {phase: 'awaiting-table', subCells, attempts}, send: {type: 'grow', subCells}}
}

/** The server's table did not peel: send the client's own, bigger, for the server to peel (see the header). */
function sendOwnTable(ctx: ReconcileContext, attempts: number, wanted: number): ClientStep {
  const subCells = tableSizeAtLeast(wanted, ctx.index.options.subCellsMax)
  if (attempts >= limitsOf(ctx).attemptsMax || subCells === undefined) return snapshotStep
  const data = toBase64(encodeTable(ctx.index.tableOf(subCells, 0xffff), header(ctx)))
  return {state: {phase: 'awaiting-decode', subCells, attempts}, send: {type: 'decode', data}}
}

/** The server peeled the client's table: delete the rows whose digests only the client holds. */
function onDecoded(ctx: ReconcileContext, deletes: string): ClientStep {
  let digests: Digest[]
  try {
    digests = decodeDigestList(fromBase64(deletes), {...ctx, countMax: ctx.index.size}).digests
  } catch (error) {
    if (error instanceof DigestDecodeError) return snapshotStep
    throw error
  }
  const deleteRowIds = digests.map((d) => ctx.index.rowOf(d)).filter((id) => id !== undefined)
  return {state: {phase: 'done', outcome: 'rows'}, deleteRowIds}
}

/** The client decodes a table: peel against its own, check the summaries, then request what it lacks. */
function onTable(ctx: ReconcileContext, state: ClientState & {phase: 'awaiting-table'}, data: string): ClientStep {
  const {index} = ctx
  const attempts = state.attempts + 1
  let received
  try {
    received = decodeTable(fromBase64(data), {...ctx, k: index.options.k, subCells: state.subCells, subCellsMax: index.options.subCellsMax})
  } catch (error) {
    if (!(error instanceof DigestDecodeError)) throw error
    const transient = error.code === 'checksum' || error.code === 'truncated' || error.code === 'base64'
    return transient && state.subCells !== undefined ? retry(ctx, attempts, state.subCells) : snapshotStep
  }
  const {table, summary} = received
  const result = peel(index.tableOf(table.subCells).subtract(table))
  const consistent = result.ok && summariesEqual(applyToSummary(index.summary(), result.onlyRemote, result.onlyLocal), summary)
  if (!result.ok || !consistent) return sendOwnTable(ctx, attempts, table.subCells * limitsOf(ctx).decodeGrowth)
  const deleteRowIds = result.onlyLocal.map((d) => index.rowOf(d)).filter((id) => id !== undefined)
  if (result.onlyRemote.length === 0) return {state: {phase: 'done', outcome: 'rows'}, deleteRowIds}
  const request = toBase64(encodeDigestList(result.onlyRemote, header(ctx)))
  return {state: {phase: 'awaiting-rows'}, send: {type: 'request', data: request}, deleteRowIds}
}

/** The client side: handles one server reply. */
export function clientStep(ctx: ReconcileContext, state: ClientState, reply: ReconcileReply): ClientStep {
  if (reply.type === 'snapshot') return {state: {phase: 'done', outcome: 'snapshot'}}
  switch (state.phase) {
    case 'awaiting-table':
      if (reply.type === 'in-sync') return {state: {phase: 'done', outcome: 'in-sync'}}
      if (reply.type === 'table') return onTable(ctx, state, reply.data)
      break
    case 'awaiting-rows':
      if (reply.type === 'rows') return {state: {phase: 'done', outcome: 'rows'}}
      break
    case 'awaiting-decode':
      if (reply.type === 'rows' && reply.deletes !== undefined) return onDecoded(ctx, reply.deletes)
      if (reply.type === 'table') {
        // The server's answer to a table it could not peel either: one twice that size (answerDecode).
        const subCells = tableSizeAtLeast(state.subCells * 2, ctx.index.options.subCellsMax)
        return onTable(ctx, {phase: 'awaiting-table', subCells, attempts: state.attempts}, reply.data)
      }
      break
  }
  // A reply out of turn is a protocol error of the peer: recover with a snapshot rather than guess.
  return snapshotStep
}
