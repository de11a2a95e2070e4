/**
 * The server's row digests (Eppstein et al. 2011 §5: each side keeps the digests of its set): one DigestIndex
 * per monitored shape (tables, columns and condition), built the first time a client reconciles that shape
 * and then kept up to date at every commit, at a cost proportional to the rows the commit changes. Each shape
 * also remembers which rows changed in its last commits, so that an exchange spanning commits can send the
 * rows that moved under it and the monitor that follows starts with no gap.
 */
import {randomBytes} from 'node:crypto'
import {DigestIndex} from '../digest/index.js'
import {digestHex} from '../digest/row-digest.js'
import {checkKeyOf, encodingOrder, monitoredRowDigests, rowIdOf, saltIdOf, shapeFingerprint} from '../digest/row-encoding.js'
import {type Digest, type SipKey, sipHash24, sipKey} from '../digest/siphash.js'
import {type Changes, type ColumnSchema, type Database, type DatabaseSchema, datumToJSON, type Row} from '../ovsdb/index.js'
import {cellOf} from './compose.js'
import type {HostedDb} from './hosted-db.js'
import type {RowFilter, TableMonitorSpec} from './monitor-request.js'

/** Named bounds of the digest state of one database. */
export interface DigestLimits {
  /** Shapes kept up to date at once; the least recently used one is dropped beyond it. */
  shapesMax: number
  /** Changed rows remembered per shape for exchanges that span commits; older ones make the client start over. */
  changeLogRowsMax: number
}

/** Defaults: a shape costs ~160 KiB of tables plus ~100 bytes a row. */
export const defaultDigestLimits: DigestLimits = {shapesMax: 16, changeLogRowsMax: 65_536}

interface ShapeTable {
  readonly columns: readonly ColumnSchema[]
  readonly filter: RowFilter
}

/** The digests of one monitored shape. */
export class DigestShape {
  readonly index = new DigestIndex()
  lastUsed = 0
  private readonly changeLog: {generation: number; rowId: string}[] = []
  /** Changes at or before this generation are not in the change log (before the build, or forgotten). */
  private forgottenUpTo: number
  private readonly checkKey: SipKey

  constructor(
    readonly fingerprint: Digest,
    readonly tables: ReadonlyMap<string, ShapeTable>,
    private readonly salt: SipKey,
    private readonly limits: DigestLimits,
    builtAt: number,
  ) {
    this.forgottenUpTo = builtAt
    this.checkKey = checkKeyOf(salt)
  }

  /** Digests every selected row of `db`: O(rows), once per shape. */
  build(db: Database): void {
    for (const [name, table] of this.tables) {
      for (const row of db.table(name).rows.values()) {
        if (table.filter === null || table.filter(row)) {
          const {digest, check} = this.digestsOf(name, table, row)
          this.index.set(rowIdOf(name, row.uuid), digest, check)
        }
      }
    }
  }

  private digestsOf(name: string, table: ShapeTable, row: Row): {digest: Digest; check: Digest} {
    return monitoredRowDigests(this.salt, this.checkKey, name, row.uuid, table.columns.map((c) => datumToJSON(c.type, cellOf(row, c))))
  }

  /** Applies commit number `generation`: O(rows it changed in this shape's tables). */
  apply(changes: Changes, generation: number): void {
    for (const [name, rows] of changes) {
      const table = this.tables.get(name)
      if (table === undefined) continue
      for (const [uuid, change] of rows) {
        const rowId = rowIdOf(name, uuid)
        const now = change.new !== null && (table.filter === null || table.filter(change.new)) ? change.new : null
        let changed: boolean
        if (now === null) changed = this.index.delete(rowId)
        else {
          // A new version whose digest did not change (a collision) still counts: its content check did.
          const {digest, check} = this.digestsOf(name, table, now)
          changed = this.index.set(rowId, digest, check)
        }
        if (changed) this.changeLog.push({generation, rowId})
      }
    }
    if (this.changeLog.length > this.limits.changeLogRowsMax) {
      // Forget whole commits only: a commit remembered in part would hide its other rows from changedSince.
      let cut = this.changeLog.length - this.limits.changeLogRowsMax
      while (cut < this.changeLog.length && this.changeLog[cut].generation === this.changeLog[cut - 1].generation) cut++
      this.forgottenUpTo = this.changeLog[cut - 1].generation
      this.changeLog.splice(0, cut)
    }
  }

  /** Row ids changed after commit `generation`, or null when the change log does not reach back that far. */
  changedSince(generation: number): Set<string> | null {
    if (generation < this.forgottenUpTo) return null
    const out = new Set<string>()
    for (let i = this.changeLog.length - 1; i >= 0 && this.changeLog[i].generation > generation; i--) out.add(this.changeLog[i].rowId)
    return out
  }
}

/** The digest state of one hosted database: its salt and its shapes. */
export class DigestRegistry {
  readonly salt: Uint8Array
  readonly saltId: number
  private readonly key: SipKey
  private readonly shapes = new Map<string, DigestShape>()
  private schema: DatabaseSchema
  private uses = 0
  /** Commits seen: the clock of the change logs, unique across shapes built and dropped. */
  private generationNow = 0

  constructor(
    private readonly hosted: HostedDb,
    salt: Uint8Array,
    private readonly limits: DigestLimits = defaultDigestLimits,
  ) {
    this.salt = salt
    this.saltId = saltIdOf(salt)
    this.key = sipKey(salt)
    this.schema = hosted.schema
    hosted.onCommit((changes) => this.apply(changes))
  }

  private apply(changes: Changes): void {
    if (this.hosted.schema !== this.schema) return this.forget()
    this.generationNow++
    for (const shape of this.shapes.values()) shape.apply(changes, this.generationNow)
  }

  /** A schema conversion replaced the database: digests of the old rows mean nothing now. */
  private forget(): void {
    this.shapes.clear()
    this.schema = this.hosted.schema
  }

  /** The shape of a monitor's tables, built now if no client has reconciled it yet. */
  shapeOf(specs: ReadonlyMap<string, TableMonitorSpec>): DigestShape {
    if (this.hosted.schema !== this.schema) this.forget()
    const tables = new Map<string, ShapeTable>()
    const described = []
    for (const [name, spec] of specs) {
      const order = encodingOrder(spec.columns.map((c) => c.name))
      tables.set(name, {columns: order.map((c) => spec.table.column(c)!), filter: spec.filter})
      described.push({name, columns: order, where: spec.where})
    }
    const fingerprint = shapeFingerprint(this.hosted.name, this.schema.version, described)
    const key = digestHex(fingerprint)
    let shape = this.shapes.get(key)
    if (shape === undefined) {
      shape = new DigestShape(fingerprint, tables, this.key, this.limits, this.generationNow)
      shape.build(this.hosted.db)
      this.shapes.set(key, shape)
      this.evict()
    }
    shape.lastUsed = ++this.uses
    return shape
  }

  private evict(): void {
    while (this.shapes.size > this.limits.shapesMax) {
      let oldest: [string, DigestShape] | undefined
      for (const entry of this.shapes) if (oldest === undefined || entry[1].lastUsed < oldest[1].lastUsed) oldest = entry
      this.shapes.delete(oldest![0])
    }
  }

  /** The number of the last commit seen: a table sent now describes the set as of this commit. */
  get generation(): number {
    return this.generationNow
  }

  /** Shapes kept up to date (for memory/show and tests). */
  get shapeCount(): number {
    return this.shapes.size
  }
}

const registries = new WeakMap<HostedDb, DigestRegistry>()
const processKeys = new WeakMap<object, Uint8Array>()

/**
 * The digest state of a hosted database, created on first use. Its salt is derived from `key` (the server's
 * digest key) and the database name, so each database has its own; without a key the server draws one at
 * start, and clients then re-digest their replica once after a restart (a salt change, never a wrong answer).
 */
export function digestRegistryOf(hosted: HostedDb, owner: object, key?: Uint8Array): DigestRegistry {
  let registry = registries.get(hosted)
  if (registry === undefined) {
    let secret = key ?? processKeys.get(owner)
    if (secret === undefined) processKeys.set(owner, (secret = randomBytes(16)))
    registry = new DigestRegistry(hosted, deriveSalt(secret, hosted.name))
    registries.set(hosted, registry)
  }
  return registry
}

/** 16 bytes of salt for database `name` under `key`: two SipHash-2-4 outputs, as a key-derivation function. */
export function deriveSalt(key: Uint8Array, name: string): Uint8Array {
  const k = sipKey(key)
  const out = new Uint8Array(16)
  const view = new DataView(out.buffer)
  for (let i = 0; i < 2; i++) {
    const d = sipHash24(k, new TextEncoder().encode(`ovnctl digest salt ${i} ${name}`))
    view.setUint32(i * 8, d.hi)
    view.setUint32(i * 8 + 4, d.lo)
  }
  return out
}
