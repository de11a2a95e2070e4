/**
 * A standalone database served from its file (ovsdb(5) "Standalone Format"): open and replay the file, write
 * each commit to it, compact it on demand and automatically (ovsdb-server(1) "ovsdb-server/compact").
 */
import {
  applyLogRecord,
  type Changes,
  changesToLogRecord,
  Database,
  DatabaseSchema,
  snapshotRecord,
} from '../ovsdb/index.js'
import {type CompactionPolicy, compactionStateOf, defaultCompactionPolicy, FileLog, shouldCompact} from '../storage/index.js'
import type {CommitLog} from './hosted-db.js'

/** The CommitLog of a standalone file, with automatic compaction. */
export class FileCommitLog implements CommitLog {
  private compacting: Promise<void> | null = null
  autoCompact = true
  /** When to compact by itself (ovsdb-server(1)'s rule by default). */
  policy: CompactionPolicy = defaultCompactionPolicy

  constructor(
    readonly file: FileLog,
    private readonly db: () => Database,
    private readonly log: (level: 'INFO' | 'WARN', message: string) => void,
  ) {}

  append(changes: Changes, meta: {durable: boolean; comment?: string; dateMs: number}): Promise<void> | undefined {
    const record = changes.size === 0 ? {_date: meta.dateMs} : changesToLogRecord(this.db().schema, changes, {dateMs: meta.dateMs, comment: meta.comment})
    if (!meta.durable && this.file.appendNow(record)) {
      if (this.autoCompact) this.maybeCompact()
      return undefined
    }
    const written = this.file.append(record, {sync: meta.durable})
    if (this.autoCompact) written.then(() => this.maybeCompact(), () => {})
    return written
  }

  private maybeCompact(): void {
    if (this.compacting !== null) return
    if (!shouldCompact(compactionStateOf(this.file.stats(), Date.now()), this.policy)) return
    const before = this.file.stats().bytes
    this.compacting = this.compact(this.db())
      .then(() => this.log('INFO', `${this.file.path}: compacted automatically from ${before} to ${this.file.stats().bytes} bytes`))
      .catch((err: Error) => this.log('WARN', `${this.file.path}: automatic compaction failed: ${err.message}`))
      .finally(() => (this.compacting = null))
  }

  compact(db: Database): Promise<void> {
    return this.file.compact(db.schema.toJSON(), snapshotRecord(db))
  }

  stats(): Record<string, number> {
    const s = this.file.stats()
    return {'log-bytes': s.bytes, 'log-records': s.records}
  }

  close(): Promise<void> {
    return this.file.close()
  }
}

/** What opening a database file found. */
export interface OpenedDatabase {
  db: Database
  file: FileLog
  /** What was dropped from a torn or corrupt tail, for the operator. */
  dropped: {offset: number; bytes: number; reason: string} | null
  records: number
}

/**
 * Opens a standalone database file and replays it. A torn tail is dropped (the file keeps its valid prefix);
 * a record that does not apply to the schema stops the open with an error naming the record.
 */
export async function openDatabaseFile(
  path: string,
  opts: {readOnly?: boolean; onProgress?: (replayed: number, total: number) => void} = {},
): Promise<OpenedDatabase> {
  const opened = await FileLog.open(path, {readOnly: opts.readOnly})
  try {
    const schema = DatabaseSchema.fromJSON(opened.schema)
    const db = new Database(schema)
    opened.records.forEach((record, i) => {
      try {
        applyLogRecord(db, record)
      } catch (err) {
        throw new Error(`Cannot open "${path}": record ${i + 1} does not apply to schema "${schema.name}": ${(err as Error).message}`)
      }
      opts.onProgress?.(i + 1, opened.records.length)
    })
    return {db, file: opened.log, dropped: opened.dropped, records: opened.records.length}
  } catch (err) {
    await opened.log.close()
    throw err
  }
}

/** Creates a new standalone database file from a schema (as `ovsdb-tool create`). */
export async function createDatabaseFile(path: string, schemaJSON: unknown): Promise<DatabaseSchema> {
  const schema = DatabaseSchema.fromJSON(schemaJSON)
  const file = await FileLog.create(path, schema.toJSON())
  await file.close()
  return schema
}
