/**
 * A replica that keeps the digests of its rows (Eppstein et al. 2011 §5) as it applies updates, so that after a
 * reconnect it can reconcile with the server by difference digests: each applied row-update re-digests that
 * row only. Digests are made under the salt the server gave (src/core/digest/row-encoding.ts); with no salt yet
 * (a new replica, or a server without monitor_cond_digest) rows are kept but not digested.
 */
import {fromBase64} from '../digest/base64.js'
import {DigestIndex} from '../digest/index.js'
import {checkKeyOf, encodingOrder, monitoredRowDigests, rowIdOf, saltIdOf, type ShapeTable, shapeFingerprint} from '../digest/row-encoding.js'
import {type Digest, type SipKey, sipKey} from '../digest/siphash.js'
import type {DatabaseSchema} from '../ovsdb/index.js'
import {Replica, type ReplicaEvent} from './replica.js'

/** <table-updates2> as the replica reads it. */
export type TableUpdates2 = Record<string, Record<string, Record<string, unknown>>>

/** What a replica holds: a database and, per table, the columns and condition monitored. */
export interface ReplicaShape {
  readonly db: string
  readonly schema: DatabaseSchema
  readonly tables: readonly ShapeTable[]
}

/** Checks a shape against its schema; throws RangeError naming the unknown table or column. */
export function checkShape(shape: ReplicaShape): void {
  for (const t of shape.tables) {
    const table = shape.schema.tables.get(t.name)
    if (table === undefined) throw new RangeError(`Unknown table "${t.name}" in database "${shape.db}"`)
    for (const c of t.columns) if (table.column(c) === undefined) throw new RangeError(`Unknown column "${c}" in table "${t.name}"`)
  }
}

/** A replica of a shape with the digests of its rows. */
export class DigestedReplica {
  readonly replica: Replica
  readonly fingerprint: Digest
  /** The last transaction applied (for history resumption), '' when unknown. */
  lastTxnId = ''
  private digests = new DigestIndex()
  private saltBytes: Uint8Array | null = null
  private key: SipKey | null = null
  private checkKey: SipKey | null = null
  private readonly order = new Map<string, string[]>()

  constructor(readonly shape: ReplicaShape) {
    checkShape(shape)
    const columns = new Map(shape.tables.map((t) => [t.name, encodingOrder(t.columns).map((c) => shape.schema.tables.get(t.name)!.column(c)!)]))
    this.replica = new Replica(shape.schema, columns)
    for (const t of shape.tables) this.order.set(t.name, encodingOrder(t.columns))
    this.fingerprint = shapeFingerprint(shape.db, shape.schema.version, shape.tables)
  }

  /** The <monitor-cond-requests> for this shape (ovsdb-server(7) §4.1.12). */
  requests(): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const t of this.shape.tables) out[t.name] = [{columns: encodingOrder(t.columns), ...(t.where === null || t.where === undefined ? {} : {where: t.where})}]
    return out
  }

  /** Rows held. */
  get size(): number {
    return this.replica.size
  }

  /** The salt digests are made with, or null before any server gave one. */
  get salt(): Uint8Array | null {
    return this.saltBytes
  }

  /** The id of the salt, 0 without one. */
  get saltId(): number {
    return this.saltBytes === null ? 0 : saltIdOf(this.saltBytes)
  }

  /** The digest set of the rows held (empty before a salt is known). */
  get index(): DigestIndex {
    return this.digests
  }

  /** Adopts the server's salt (base64 or bytes); re-digests every row when it differs from the current one. */
  setSalt(salt: string | Uint8Array): void {
    const bytes = typeof salt === 'string' ? fromBase64(salt) : salt
    if (this.saltBytes !== null && Buffer.from(bytes).equals(Buffer.from(this.saltBytes))) return
    this.saltBytes = bytes
    this.key = sipKey(bytes)
    this.checkKey = checkKeyOf(this.key)
    this.digests = new DigestIndex()
    for (const t of this.shape.tables) for (const uuid of this.replica.uuids(t.name)) this.redigest(t.name, uuid)
  }

  /** Rows held, as row ids ("table/uuid"). */
  *rowIds(): IterableIterator<string> {
    for (const t of this.shape.tables) for (const uuid of this.replica.uuids(t.name)) yield rowIdOf(t.name, uuid)
  }

  /** Applies <table-updates2> (initial, insert, modify, delete); re-digests the rows it changes. */
  apply(updates: TableUpdates2): ReplicaEvent[] {
    const events = this.replica.apply(updates)
    for (const e of events) this.redigest(e.table, e.uuid, e.action === 'delete' ? undefined : e.row)
    return events
  }

  /**
   * Sets rows to a given whole state (a snapshot, or rows sent by digest): null deletes. Reports only real
   * changes, with "modify" and the columns that differ when a held row changes, so consumers stay incremental.
   */
  replaceRows(rows: Iterable<{table: string; uuid: string; row: Record<string, unknown> | null}>): ReplicaEvent[] {
    const events: ReplicaEvent[] = []
    for (const {table, uuid, row} of rows) {
      const old = this.replica.row(table, uuid)
      if (row === null) {
        if (old !== undefined) events.push(...this.apply({[table]: {[uuid]: {delete: null}}}))
        continue
      }
      const [event] = this.replica.apply({[table]: {[uuid]: {insert: row}}})
      if (event === undefined) continue
      // The event holds the row as stored (defaults filled in): digest that rather than convert the row again.
      this.redigest(table, uuid, event.row)
      if (old === undefined) events.push(event)
      else {
        const changed = Object.keys(event.row).filter((c) => JSON.stringify(event.row[c]) !== JSON.stringify(old[c]))
        if (changed.length > 0) events.push({...event, action: 'modify', changed})
      }
    }
    return events
  }

  /** Replaces the whole replica by a snapshot (<table-updates2> of "initial" rows): rows absent are deleted. */
  replaceAll(snapshot: TableUpdates2): ReplicaEvent[] {
    const rows: {table: string; uuid: string; row: Record<string, unknown> | null}[] = []
    for (const t of this.shape.tables) {
      const given = snapshot[t.name] ?? {}
      for (const uuid of this.replica.uuids(t.name)) if (!(uuid in given)) rows.push({table: t.name, uuid, row: null})
      for (const [uuid, update] of Object.entries(given)) rows.push({table: t.name, uuid, row: (update.initial ?? update.insert ?? {}) as Record<string, unknown>})
    }
    return this.replaceRows(rows)
  }

  private redigest(table: string, uuid: string, stored?: Record<string, unknown>): void {
    if (this.key === null) return
    const rowId = rowIdOf(table, uuid)
    const row = stored ?? this.replica.row(table, uuid)
    if (row === undefined) {
      this.digests.delete(rowId)
      return
    }
    const values = this.order.get(table)!.map((c) => row[c])
    const {digest, check} = monitoredRowDigests(this.key, this.checkKey!, table, uuid, values)
    this.digests.set(rowId, digest, check)
  }
}
