/**
 * A relay's persistent replica (`db-serve --relay-cache=DIR`): the rows of the relayed database and the source
 * transaction id they are current at, saved so that a restarted relay asks its source for what changed since
 * (monitor_cond_since, ovsdb-server(7) §4.1.15) instead of the whole database. ovsdb-server relays keep their
 * replica in memory only (ovsdb(7) "Relay Service Model"), so a restart of theirs resends everything.
 *
 * The file is the replica cache of src/core/idl/cache.ts (checked header, SHA-256 of the body, written to a
 * temporary file, synced and renamed): every table, every column, no condition. A restarted relay resumes with
 * monitor_cond_digest (relay-resume.ts): history when the source still has it, else difference digests. It is only a hint: a file that
 * is damaged, holds another database or another schema is refused and the relay fetches the whole database.
 */
import path from 'node:path'
import {cacheFits, loadReplicaCache, ReplicaCacheError, writeCacheFile} from '../idl/cache.js'
import type {DigestedReplica, TableUpdates2} from '../idl/digest-replica.js'
import {Database, type DatabaseSchema, rowToJSON} from '../ovsdb/index.js'
import {snapshotToChanges} from './relay-apply.js'
import {newUuid} from './uuid.js'

/**
 * How often a relay saves its replica when it changed, in ms; it is saved at shutdown too. Rarely: serializing a
 * large database holds the relay's clients up meanwhile, and a cache minutes old resumes almost as cheaply (the
 * source's history or digests cover the gap).
 */
export const relayCacheIntervalMs = 300_000

/** The cache file of relayed database `db` in directory `dir`. */
export function relayCacheFile(dir: string, db: string): string {
  return path.join(dir, `${db}.relay-cache`)
}

/** A replica read back from a cache file. */
export interface CachedReplica {
  /** The schema, as canonical JSON text (compared with the source's). */
  readonly schemaText: string
  readonly db: Database
  /** The same rows, with the digests a resume by monitor_cond_digest compares (relay-resume.ts). */
  readonly replica: DigestedReplica
  /** The source transaction the rows are current at (the zero uuid: none, the source will send everything). */
  readonly lastTxnId: string
  readonly rows: number
}

/** The canonical text of a schema, as the relay compares the source's schema with the one it holds. */
export function schemaText(schema: DatabaseSchema): string {
  return JSON.stringify(schema.toJSON())
}

function allColumns(schema: DatabaseSchema): {name: string; columns: string[]; where: null}[] {
  return [...schema.tables.values()].map((ts) => ({name: ts.name, columns: [...ts.columns.keys()].filter((c) => c !== '_uuid' && c !== '_version'), where: null}))
}

/**
 * Saves `db`, current at source transaction `lastTxnId`; returns the rows saved. The body is built before the
 * first await, so it is one consistent state however the replica changes while the file is written.
 */
export async function saveRelayCache(file: string, db: Database, lastTxnId: string): Promise<number> {
  const tables = allColumns(db.schema)
  const rows: TableUpdates2 = {}
  let count = 0
  for (const t of tables) {
    const ts = db.schema.tables.get(t.name)!
    const out: Record<string, Record<string, unknown>> = (rows[t.name] = {})
    for (const [uuid, row] of db.table(t.name).rows) {
      out[uuid] = {initial: rowToJSON(ts, row, t.columns)}
      count++
    }
  }
  await writeCacheFile(file, {db: db.schema.name, schema: db.schema.toJSON(), tables, lastTxnId, salt: null, rows})
  return count
}

/** Reads a relay cache of database `dbName`; throws ReplicaCacheError when it is missing, damaged or foreign. */
export async function loadRelayCache(file: string, dbName: string): Promise<CachedReplica> {
  const replica = await loadReplicaCache(file)
  const {schema} = replica.shape
  if (replica.shape.db !== dbName) throw new ReplicaCacheError(file, `it holds database "${replica.shape.db}", not "${dbName}"`)
  // A client's cache (db-monitor --cache) may keep some tables, columns or rows only: not a whole replica.
  if (!cacheFits(replica, {db: dbName, schema, tables: allColumns(schema)})) {
    throw new ReplicaCacheError(file, 'it holds only some tables, columns or rows of the database (a client cache, not a relay cache)')
  }
  const rows: TableUpdates2 = {}
  for (const t of replica.shape.tables) {
    const out: Record<string, Record<string, unknown>> = (rows[t.name] = {})
    for (const uuid of replica.replica.uuids(t.name)) out[uuid] = {initial: replica.replica.row(t.name, uuid)!}
  }
  const db = new Database(schema)
  try {
    db.commit(snapshotToChanges(db, schema.tables.keys(), rows, newUuid))
  } catch (err) {
    throw new ReplicaCacheError(file, `its rows do not fit its schema: ${(err as Error).message}`)
  }
  return {schemaText: schemaText(schema), db, replica, lastTxnId: replica.lastTxnId, rows: db.rowCount()}
}

/** The replica state a RelayCache saves: null while the replica is not reconciled with its source. */
export type ReplicaState = () => {db: Database; lastTxnId: string} | null

/**
 * The cache of one relay database: read once at start, handed over once the source's schema is known, then saved
 * every relayCacheIntervalMs when the replica moved on, and at stop. Failures are logged, never fatal: the
 * cache only saves transfer.
 */
export class RelayCache {
  private cached: CachedReplica | null = null
  private timer: NodeJS.Timeout | null = null
  private savedTxnId: string | null = null
  private saving: Promise<void> | null = null

  constructor(
    readonly file: string,
    readonly dbName: string,
    private readonly log: (level: 'INFO' | 'WARN', message: string) => void,
  ) {}

  /** Reads the file; logs why it cannot be used (a missing file is the first start, said as such). */
  async load(): Promise<CachedReplica | null> {
    try {
      this.cached = await loadRelayCache(this.file, this.dbName)
      this.savedTxnId = this.cached.lastTxnId
      this.log('INFO', `${this.dbName}: read ${this.cached.rows} rows from replica cache "${this.file}" (transaction ${this.cached.lastTxnId}): asking the source only for what changed since`)
    } catch (err) {
      if (err instanceof ReplicaCacheError && /ENOENT/.test(err.message)) this.log('INFO', `${this.dbName}: no replica cache "${this.file}" yet: fetching the whole database`)
      else this.log('WARN', `${this.dbName}: ${(err as Error).message}; fetching the whole database`)
    }
    return this.cached
  }

  /** The cached replica if it holds the source's schema `text` (else logs why not); hands it over once. */
  take(text: string, version: string): CachedReplica | null {
    const cached = this.cached
    this.cached = null
    if (cached === null || cached.schemaText === text) return cached
    this.log('WARN', `${this.dbName}: replica cache "${this.file}" holds another schema than the source's (version ${version}): fetching the whole database`)
    return null
  }

  /** Saves `state` every relayCacheIntervalMs while it changes. */
  start(state: ReplicaState): void {
    this.timer = setInterval(() => void this.save(state), relayCacheIntervalMs)
    this.timer.unref()
  }

  /** Stops the timer and saves a last time. */
  async stop(state: ReplicaState): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    await this.saving
    await this.save(state)
  }

  /** Saves now unless a save is running or the replica did not change since the last one. */
  save(state: ReplicaState): Promise<void> {
    const now = state()
    if (this.saving !== null || now === null || now.lastTxnId === this.savedTxnId) return this.saving ?? Promise.resolve()
    this.saving = saveRelayCache(this.file, now.db, now.lastTxnId).then(
      () => {
        this.savedTxnId = now.lastTxnId
      },
      (err: Error) => this.log('WARN', `${this.dbName}: cannot save replica cache "${this.file}": ${err.message}`),
    )
    const done = this.saving.finally(() => (this.saving = null))
    return done
  }
}
