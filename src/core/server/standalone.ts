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
import {encodedRecordSha1} from '../storage/log-format.js'
import type {CommitLog} from './hosted-db.js'
import {TxnHistory, zeroUuid} from './txn-history.js'

/**
 * The transaction id of a standalone record: its SHA-1 (ovsdb(5) record header) shaped as a name-based UUID
 * (RFC 4122 §4.3, version 5 bits). The live server and one restarted from the file name each commit alike,
 * so monitor_cond_since clients resume across a restart; ovsdb-tool reads the records unchanged.
 */
export function recordTxnId(sha1: string): string {
  const variant = ((parseInt(sha1[16], 16) & 0x3) | 0x8).toString(16)
  // Joined rather than concatenated: one flat string. The id lives as long as the commit stays in the history,
  // and a concatenation is a tree of a dozen strings that every young-generation collection copied.
  return [sha1.slice(0, 8), sha1.slice(8, 12), `5${sha1.slice(13, 16)}`, `${variant}${sha1.slice(17, 20)}`, sha1.slice(20, 32)].join('-')
}

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

  private lastTxnId: string | undefined

  append(changes: Changes, meta: {durable: boolean; comment?: string; dateMs: number}): Promise<void> | undefined {
    const record = this.file.encode(changes.size === 0 ? {_date: meta.dateMs} : changesToLogRecord(this.db().schema, changes, {dateMs: meta.dateMs, comment: meta.comment}))
    this.lastTxnId = recordTxnId(encodedRecordSha1(record))
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

  lastAppendedTxnId(): string | undefined {
    return this.lastTxnId
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
  /** The id of the last transaction in the file (zero when it holds none), which `history` ends with. */
  lastTxnId: string
}

/**
 * Opens a standalone database file and replays it. A torn tail is dropped (the file keeps its valid prefix);
 * a record that does not apply to the schema stops the open with an error naming the record.
 */
export async function openDatabaseFile(
  path: string,
  opts: {readOnly?: boolean; onProgress?: (replayed: number, total: number) => void; history?: TxnHistory} = {},
): Promise<OpenedDatabase> {
  const opened = await FileLog.open(path, {readOnly: opts.readOnly})
  try {
    const schema = DatabaseSchema.fromJSON(opened.schema)
    const db = new Database(schema)
    // The history a live server had is rebuilt from the records, each named by its SHA-1 (recordTxnId).
    let lastTxnId = zeroUuid
    opts.history?.reset(recordTxnId(opened.sha1s[0]))
    opened.records.forEach((record, i) => {
      try {
        const changes = applyLogRecord(db, record)
        if (changes.size > 0) {
          lastTxnId = recordTxnId(opened.sha1s[i + 1])
          opts.history?.push(lastTxnId, changes)
        }
      } catch (err) {
        throw new Error(`Cannot open "${path}": record ${i + 1} does not apply to schema "${schema.name}": ${(err as Error).message}`)
      }
      opts.onProgress?.(i + 1, opened.records.length)
    })
    return {db, file: opened.log, dropped: opened.dropped, records: opened.records.length, lastTxnId}
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
