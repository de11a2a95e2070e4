/**
 * The server side of "monitor_cond_digest" (the message layout is in src/core/digest/protocol.ts): resume from
 * history when the client's last transaction is still remembered, as monitor_cond_since does; else answer one
 * round of reconcilePlan from the shape's DigestIndex; and on the last round start the monitor in the same
 * step as the reply is composed, so that every later commit reaches the client as update3 and none is missed.
 */
import {toBase64} from '../digest/base64.js'
import {type ReconcileReply, serverStep} from '../digest/plan.js'
import {DigestMessageError, type DigestMessage, type DigestOutcome, parseDigestMessage} from '../digest/protocol.js'
import {splitRowId} from '../digest/row-encoding.js'
import {rowJSON} from './compose.js'
import {digestRegistryOf, type DigestRegistry, type DigestShape} from './digest-shapes.js'
import {MethodError, syntaxError} from './errors.js'
import type {HostedDb} from './hosted-db.js'
import {Monitor, type TableUpdates} from './monitor.js'
import {parseMonitorRequests, type TableMonitorSpec} from './monitor-request.js'
import {netChanges} from './net-changes.js'
import type {Session} from './session.js'

/** What a round needs once its parameters are checked. */
interface Round {
  session: Session
  hosted: HostedDb
  monitorId: unknown
  key: string
  specs: Map<string, TableMonitorSpec>
  lastTxnId: string
  message: DigestMessage
}

/**
 * Handles one monitor_cond_digest request. Parameters are checked at once (a bad one is a "syntax error"
 * thrown to the caller); the answer waits for every earlier commit to be published, as monitor_cond_change does.
 */
export function monitorCondDigest(session: Session, params: unknown[], id: unknown): void {
  const round = checkParams(session, params)
  round.hosted.settled().then(() => {
    if (session.conn.closed) return
    try {
      session.conn.respond(id, answer(round))
    } catch (err) {
      if (!(err instanceof MethodError)) session.server.log('ERR', `monitor_cond_digest failed unexpectedly: ${(err as Error).stack}`)
      const error = err instanceof MethodError ? err.toJSON() : {error: 'internal error', details: (err as Error).message}
      session.conn.send(JSON.stringify({id, error}))
    }
  })
}

function checkParams(session: Session, params: unknown[]): Round {
  if (!Array.isArray(params) || params.length !== 5) {
    throw syntaxError('monitor_cond_digest takes [<db-name>, <monitor-id>, <monitor-cond-requests>, <last-txn-id>, <digest-message>]', params)
  }
  const [name, monitorId, requests, lastTxnId, messageJSON] = params
  const hosted = typeof name === 'string' ? session.server.database(name) : undefined
  if (typeof name !== 'string') throw syntaxError('monitor_cond_digest request must name a database', params)
  if (hosted === undefined) throw new MethodError('unknown database', `monitor_cond_digest request specifies unknown database ${name}`, params)
  const key = JSON.stringify(monitorId ?? null)
  if (session.monitors.has(key)) throw syntaxError('duplicate monitor ID', monitorId)
  const specs = parseMonitorRequests(hosted.schema, requests, 3)
  if (typeof lastTxnId !== 'string') throw syntaxError('<last-txn-id> must be a UUID string', lastTxnId)
  let message: DigestMessage
  try {
    message = parseDigestMessage(messageJSON)
  } catch (err) {
    if (err instanceof DigestMessageError) throw syntaxError(err.message, messageJSON)
    throw err
  }
  return {session, hosted, monitorId, key, specs, lastTxnId, message}
}

function answer(round: Round): unknown {
  const {hosted, session, message} = round
  if (session.monitors.has(round.key)) throw syntaxError('duplicate monitor ID', round.monitorId)
  const registry = digestRegistryOf(hosted, session.server, session.server.options.digestKey)
  const since = round.lastTxnId === '' ? null : hosted.historySince(round.lastTxnId)
  if (since !== null) {
    const monitor = start(round)
    return final(registry, 'history', hosted.lastTxnId, monitor.updatesFor(netChanges(since.map((h) => h.changes))) ?? {})
  }
  if (message.request.type === 'snapshot') return snapshot(round, registry)
  if (message.saltId !== registry.saltId) return {outcome: 'salt', salt: toBase64(registry.salt), 'salt-id': registry.saltId}
  const shape = registry.shapeOf(round.specs)
  const reply: ReconcileReply = serverStep({index: shape.index, fingerprint: shape.fingerprint, saltId: registry.saltId}, message.request)
  switch (reply.type) {
    case 'table':
      return {outcome: 'table', data: reply.data, generation: registry.generation}
    case 'in-sync':
      start(round)
      return {...final(registry, 'in-sync', hosted.lastTxnId, {}), check: shape.index.check}
    case 'snapshot':
      return snapshot(round, registry, reply.refused)
    case 'rows': {
      const moved = shape.changedSince(message.generation ?? -1)
      // The log of changed rows no longer reaches the client's table: only a snapshot is sure to be right.
      if (moved === null) return snapshot(round, registry, 'the table decoded is older than the rows changed since')
      for (const rowId of reply.rowIds) moved.add(rowId)
      start(round)
      const updates = rowsOf(hosted, shape, round.specs, moved)
      const answer = {...final(registry, 'rows', hosted.lastTxnId, updates), unknown: reply.unknown, check: shape.index.check}
      return reply.deletes === undefined ? answer : {...answer, deletes: reply.deletes}
    }
  }
}

function snapshot(round: Round, registry: DigestRegistry, refused?: string): unknown {
  const monitor = start(round)
  const reply = final(registry, 'snapshot', round.hosted.lastTxnId, monitor.initialUpdates(round.hosted.db))
  return refused === undefined ? reply : {...reply, refused}
}

function final(registry: DigestRegistry, outcome: DigestOutcome, lastTxnId: string, updates: TableUpdates): Record<string, unknown> {
  return {outcome, 'last-txn-id': lastTxnId, updates, salt: toBase64(registry.salt), 'salt-id': registry.saltId}
}

/** Starts the monitor the exchange was for: from now on commits reach it as update3. */
function start(round: Round): Monitor {
  const monitor = new Monitor(round.monitorId, round.hosted.name, 3, round.specs, round.session)
  round.session.monitors.set(round.key, monitor)
  round.hosted.monitors.add(monitor)
  return monitor
}

/** The current state of each row id as <table-updates2>: "insert" with the whole row, or "delete". */
function rowsOf(hosted: HostedDb, shape: DigestShape, specs: Map<string, TableMonitorSpec>, rowIds: Iterable<string>): TableUpdates {
  const out: TableUpdates = {}
  for (const rowId of rowIds) {
    const {table, uuid} = splitRowId(rowId)
    const spec = specs.get(table)
    if (spec === undefined || !shape.tables.has(table)) continue
    const row = hosted.db.table(table).rows.get(uuid)
    const selected = row !== undefined && (spec.filter === null || spec.filter(row))
    ;(out[table] ??= {})[uuid] = selected ? {insert: rowJSON(row, spec.columns, true)} : {delete: null}
  }
  return out
}
