/**
 * The JSON-RPC form of the digest exchange: "monitor_cond_digest", a request in the spirit of
 * monitor_cond_since (ovsdb-server(7) §4.1.15) that is repeated once per round of reconcilePlan, and whose
 * last round starts an ordinary monitor that then sends "update3" notifications. Shared by server and client so
 * that both read and write the same fields.
 *
 *   params: [<db-name>, <json-value> monitor id, <monitor-cond-requests>, <last-txn-id>, <digest-message>]
 *   <digest-message>: {"type": "estimate", "salt-id", "sub-cells-max", "data"} | {"type": "grow", "salt-id",
 *                     "sub-cells"} | {"type": "request" | "decode", "salt-id", "generation", "data"} | {"type": "snapshot"}
 *   result, exchange goes on (no monitor yet): {"outcome": "table", "data", "generation"} |
 *                                              {"outcome": "salt", "salt", "salt-id"}
 *   result, monitor started: {"outcome": "history" | "in-sync" | "rows" | "snapshot", "last-txn-id",
 *                             "updates": <table-updates2>, "salt", "salt-id"[, "refused"][, "deletes"]}
 *   "deletes" (after "decode"): base64 digest list of the rows the client holds and the server does not.
 */
import type {ReconcileRequest} from './plan.js'

/** The request method. */
export const monitorCondDigestMethod = 'monitor_cond_digest'

/** A client's message as the server reads it. */
export interface DigestMessage {
  readonly request: ReconcileRequest
  /** Salt id the client's digests were made with (absent for a snapshot request). */
  readonly saltId?: number
  /** For "request" and "decode": the generation of the (last) table the server sent. */
  readonly generation?: number
}

/** A message that is not a <digest-message>: the server answers "syntax error" naming the field. */
export class DigestMessageError extends Error {
  constructor(detail: string) {
    super(`Invalid <digest-message>: ${detail}`)
    this.name = 'DigestMessageError'
  }
}

function field(json: Record<string, unknown>, name: string, kind: 'uint' | 'string'): never | number | string {
  const value = json[name]
  if (kind === 'string' && typeof value === 'string') return value
  if (kind === 'uint' && typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff) return value
  throw new DigestMessageError(`"${name}" must be ${kind === 'uint' ? 'an integer from 0 to 2^32-1' : 'a string'}, not ${JSON.stringify(value) ?? 'absent'}`)
}

/** Reads a <digest-message>; throws DigestMessageError on anything else. */
export function parseDigestMessage(json: unknown): DigestMessage {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new DigestMessageError('must be an object')
  const m = json as Record<string, unknown>
  switch (m.type) {
    case 'snapshot':
      return {request: {type: 'snapshot'}}
    case 'estimate':
      return {
        request: {type: 'estimate', subCellsMax: field(m, 'sub-cells-max', 'uint') as number, data: field(m, 'data', 'string') as string},
        saltId: field(m, 'salt-id', 'uint') as number,
      }
    case 'grow':
      return {request: {type: 'grow', subCells: field(m, 'sub-cells', 'uint') as number}, saltId: field(m, 'salt-id', 'uint') as number}
    case 'request':
    case 'decode':
      return {
        request: {type: m.type, data: field(m, 'data', 'string') as string},
        saltId: field(m, 'salt-id', 'uint') as number,
        generation: field(m, 'generation', 'uint') as number,
      }
    default:
      throw new DigestMessageError(`"type" must be "estimate", "grow", "decode", "request" or "snapshot", not ${JSON.stringify(m.type) ?? 'absent'}`)
  }
}

/** Writes a client's message. */
export function digestMessageJSON(message: DigestMessage): Record<string, unknown> {
  const r = message.request
  const salt = {'salt-id': message.saltId}
  switch (r.type) {
    case 'snapshot':
      return {type: 'snapshot'}
    case 'estimate':
      return {type: 'estimate', ...salt, 'sub-cells-max': r.subCellsMax, data: r.data}
    case 'grow':
      return {type: 'grow', ...salt, 'sub-cells': r.subCells}
    case 'request':
    case 'decode':
      return {type: r.type, ...salt, generation: message.generation, data: r.data}
  }
}

/** How an exchange ended: the monitor runs from here. */
export type DigestOutcome = 'history' | 'in-sync' | 'rows' | 'snapshot'

/** The server's result, as the client reads it. */
export type DigestResult =
  | {readonly outcome: 'table'; readonly data: string; readonly generation: number}
  | {readonly outcome: 'salt'; readonly salt: string; readonly saltId: number}
  | {
      readonly outcome: DigestOutcome
      readonly lastTxnId: string
      readonly updates: Record<string, Record<string, Record<string, unknown>>>
      readonly salt: string
      readonly saltId: number
      readonly refused?: string
      /** After "decode": base64 digest list of rows only the client holds. */
      readonly deletes?: string
      /** After "in-sync" and "rows": the server's content check (DigestIndex.check) the client must now have. */
      readonly check?: string
    }

/** Reads the server's result; throws DigestMessageError when it is not one. */
export function parseDigestResult(json: unknown): DigestResult {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new DigestMessageError('result must be an object')
  const m = json as Record<string, unknown>
  switch (m.outcome) {
    case 'table':
      return {outcome: 'table', data: field(m, 'data', 'string') as string, generation: field(m, 'generation', 'uint') as number}
    case 'salt':
      return {outcome: 'salt', salt: field(m, 'salt', 'string') as string, saltId: field(m, 'salt-id', 'uint') as number}
    case 'history':
    case 'in-sync':
    case 'rows':
    case 'snapshot': {
      const updates = m.updates
      if (typeof updates !== 'object' || updates === null || Array.isArray(updates)) throw new DigestMessageError('"updates" must be <table-updates2>')
      return {
        outcome: m.outcome,
        lastTxnId: field(m, 'last-txn-id', 'string') as string,
        updates: updates as Record<string, Record<string, Record<string, unknown>>>,
        salt: field(m, 'salt', 'string') as string,
        saltId: field(m, 'salt-id', 'uint') as number,
        refused: typeof m.refused === 'string' ? m.refused : undefined,
        deletes: m.deletes === undefined ? undefined : (field(m, 'deletes', 'string') as string),
        check: m.check === undefined ? undefined : (field(m, 'check', 'string') as string),
      }
    }
    default:
      throw new DigestMessageError(`unknown outcome ${JSON.stringify(m.outcome) ?? 'absent'}`)
  }
}
