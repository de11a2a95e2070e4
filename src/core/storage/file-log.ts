/**
 * A standalone OVSDB database file (ovsdb(5) "Standalone Format"): a schema record followed by transaction
 * records, each appended and made durable before the transaction is acknowledged. Files are byte-compatible with
 * `ovsdb-tool` and `ovsdb-server`. Records are plain JSON here: the meaning of rows is the engine's business.
 *
 * All writes go through one serial queue, so they never interleave: appends waiting while a write and fdatasync
 * are in flight are written together and share the next fdatasync (group commit), in the order issued.
 * `compact` takes its place in that queue: appends issued before it land in the old file (the snapshot must
 * already include them), appends issued after it wait and land in the new file after the swap.
 */
import {createHash} from 'node:crypto'
import fs, {promises as fsp} from 'node:fs'
import type {FileHandle} from 'node:fs/promises'
import path from 'node:path'
import {StorageError} from './errors.js'
import {syncDirectory, writeAll, writeAllSync} from './file-io.js'
import {decodeLog, defaultLogFormatLimits, encodeRecord, fileMagic, magicClustered, type LogFormatLimits, type Sha1} from './log-format.js'
import {PidLock} from './pid-lock.js'

/** SHA-1 in hex from node:crypto, the hash ovsdb(5) records carry. */
export const sha1Hex: Sha1 = (data) => createHash('sha1').update(data).digest('hex')

/** Named bounds of one open log. */
export interface FileLogLimits extends LogFormatLimits {
  /** Bytes of appends accepted but not yet durable; an append beyond it is refused, not queued. */
  pendingBytesMax: number
  /** Bytes written by one group commit (a single larger record is still written, alone). */
  batchBytesMax: number
  /** Largest file `open` reads, in bytes: the whole file is read into memory to replay it. */
  fileBytesMax: number
}

/** Defaults: a record as large as one JSON-RPC message, and room for a couple of such records in flight. */
export const defaultFileLogLimits: FileLogLimits = {
  ...defaultLogFormatLimits,
  pendingBytesMax: 512 * 1024 * 1024,
  batchBytesMax: 64 * 1024 * 1024,
  fileBytesMax: 2 * 1024 * 1024 * 1024,
}

/** Options of `create` and `open`. */
export interface FileLogOptions {
  limits?: Partial<FileLogLimits>
  /** Wall clock in ms, for `stats().lastCompactionMs` and `openedMs`; defaults to Date.now. */
  nowMs?: () => number
}

/** What `open` dropped from the end of the file: where the valid prefix ends, how many bytes followed, and why. */
export interface DroppedTail {
  offset: number
  bytes: number
  reason: string
}

/** Result of `open`. */
export interface OpenedFileLog {
  log: FileLog
  schema: Record<string, unknown>
  /** Every transaction record after the schema, in file order. */
  records: Record<string, unknown>[]
  /** The SHA-1 of every record, the schema's first (ovsdb(5) record header). */
  sha1s: string[]
  dropped: DroppedTail | null
}

/** Size and history of the log, as the compaction policy needs them. */
export interface FileLogStats {
  /** Bytes in the file (all durable). */
  bytes: number
  /** Transaction records in the file, the schema record not counted. */
  records: number
  /** File size after the last compaction; the size found at open if there was none since. */
  bytesAtLastCompaction: number
  /** Records right after the last compaction (1, the snapshot); 0 if none since open. */
  recordsAtLastCompaction: number
  /** When the last compaction by this process finished, in ms of `nowMs`. */
  lastCompactionMs?: number
  /** When the log was opened or created, in ms of `nowMs`. */
  openedMs: number
  /** fdatasync calls made by appends: fewer than appends when group commit batches them. */
  appendSyncs: number
}

type Operation = {
  kind: 'append' | 'compact'
  bytes: Buffer
  /** fdatasync before resolving (compactions always sync). */
  sync: boolean
  resolve: () => void
  reject: (err: Error) => void
}

/** One open standalone database file. */
export class FileLog {
  private readonly queue: Operation[] = []
  private pendingBytes = 0
  private draining: Promise<void> | null = null
  private broken: Error | null = null
  private closed = false
  private bytesAtLastCompaction: number
  private recordsAtLastCompaction = 0
  private lastCompactionMs: number | undefined
  private readonly openedMs: number
  private appendSyncs = 0

  private constructor(
    readonly path: string,
    private fd: FileHandle,
    private readonly lock: PidLock | null,
    private bytes: number,
    private records: number,
    private readonly limits: FileLogLimits,
    private readonly nowMs: () => number,
  ) {
    this.bytesAtLastCompaction = bytes
    this.openedMs = nowMs()
    if (lock === null) this.broken = new StorageError('closed', `Cannot write "${path}": opened read-only`)
  }

  /** Creates a new database file holding only `schemaJson`; fails with 'exists' if the file is already there. */
  static async create(file: string, schemaJson: object, opts: FileLogOptions = {}): Promise<FileLog> {
    const limits = {...defaultFileLogLimits, ...opts.limits}
    const bytes = encodeRecord(schemaJson, sha1Hex, {limits})
    const lock = await PidLock.acquire(file)
    let fd: FileHandle | undefined
    try {
      fd = await fsp.open(file, 'wx', 0o640)
      await writeAll(fd, bytes, 0)
      await fd.datasync()
      await syncDirectory(path.dirname(file))
      return new FileLog(file, fd, lock, bytes.length, 0, limits, opts.nowMs ?? Date.now)
    } catch (err) {
      if (fd !== undefined) {
        await fd.close().catch(() => {})
        await fsp.rm(file, {force: true}).catch(() => {})
      }
      await lock.release()
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new StorageError('exists', `Cannot create "${file}": file exists`, {cause: err})
      }
      throw asStorageError(err, `Cannot create "${file}"`)
    }
  }

  /**
   * Opens a database file and replays it. A torn or corrupt tail is dropped: the file is truncated to the valid
   * prefix (unless readOnly) and `dropped` says what and why, as ovsdb-server does on its next write.
   */
  static async open(file: string, opts: FileLogOptions & {readOnly?: boolean} = {}): Promise<OpenedFileLog> {
    const limits = {...defaultFileLogLimits, ...opts.limits}
    const lock = opts.readOnly ? null : await PidLock.acquire(file)
    let fd: FileHandle | undefined
    try {
      // A compaction cut short by a crash leaves its temp file; the database itself is intact (rename is atomic).
      if (!opts.readOnly) await fsp.rm(compactionTempPath(file), {force: true})
      fd = await fsp.open(file, opts.readOnly ? 'r' : 'r+')
      const buf = await readWhole(fd, file, limits.fileBytesMax)
      if (fileMagic(buf) === magicClustered) {
        throw new StorageError('clustered', `Cannot open "${file}": clustered database files are not supported yet: magic "${magicClustered}" (ovsdb(5))`)
      }
      const decoded = decodeLog(buf, sha1Hex, {limits})
      const stop = decoded.stop
      // A record over our own limit is not damage: refuse rather than truncate it away.
      if (stop?.reason === 'record too large') {
        throw new StorageError('limit', `Cannot open "${file}": at offset ${stop.offset}: ${stop.detail}`)
      }
      if (decoded.records.length === 0) {
        const why = stop ? `${stop.reason}: ${stop.detail}` : 'file is empty'
        throw new StorageError('corrupt', `Cannot open "${file}": no schema record: ${why}`)
      }
      let dropped: DroppedTail | null = null
      if (stop !== null) {
        dropped = {offset: stop.offset, bytes: buf.length - stop.offset, reason: `${stop.reason}: ${stop.detail}`}
        if (!opts.readOnly) {
          await fd.truncate(stop.offset)
          await fd.datasync()
        }
      }
      const [schema, ...records] = decoded.records.map((r) => r.json)
      const log = new FileLog(file, fd, lock, decoded.validBytes, records.length, limits, opts.nowMs ?? Date.now)
      return {log, schema, records, dropped, sha1s: decoded.records.map((r) => r.sha1)}
    } catch (err) {
      await fd?.close().catch(() => {})
      await lock?.release()
      throw asStorageError(err, `Cannot open "${file}"`)
    }
  }

  /** Encodes one record as `append` writes it (a caller may want its SHA-1 first); over recordBytesMax it throws a StorageError. */
  encode(record: object): Buffer {
    try {
      return encodeRecord(record, sha1Hex, {limits: this.limits})
    } catch (err) {
      throw err instanceof RangeError ? new StorageError('limit', `Cannot write "${this.path}": ${err.message}`) : err
    }
  }

  /**
   * Appends one transaction record; resolves once it is written and, unless `sync` is false, fdatasync'ed.
   * Without sync a record survives the death of the process (it is in the kernel) but not of the machine: what
   * ovsdb-server does for commits not marked durable (RFC 7047 §5.2.7 "commit").
   */
  append(record: object | Buffer, opts: {sync?: boolean} = {}): Promise<void> {
    const sync = opts.sync ?? true
    if (!sync) {
      try {
        if (this.appendNow(record)) return Promise.resolve()
      } catch (err) {
        return Promise.reject(err)
      }
    }
    return this.enqueue('append', sync, () => {
      const bytes = Buffer.isBuffer(record) ? record : encodeRecord(record, sha1Hex, {limits: this.limits})
      if (this.pendingBytes + bytes.length > this.limits.pendingBytesMax) {
        throw new StorageError('limit', `Cannot append ${bytes.length} bytes to "${this.path}": pendingBytesMax=${this.limits.pendingBytesMax} reached`)
      }
      return bytes
    })
  }

  /**
   * Appends a record without syncing it, at once, if no other write is queued: one synchronous write(2) of a
   * few microseconds, as ovsdb-server does, instead of a round trip through the I/O thread pool. Returns false
   * (writing nothing) when writes are queued; throws a StorageError when the write fails.
   */
  appendNow(record: object | Buffer): boolean {
    if (this.draining !== null || this.queue.length > 0 || this.closed) return false
    if (this.broken) throw this.broken
    const bytes = Buffer.isBuffer(record) ? record : this.encode(record)
    const start = this.bytes
    try {
      writeAllSync(this.fd.fd, bytes, start)
    } catch (err) {
      try {
        fs.ftruncateSync(this.fd.fd, start)
      } catch (undoErr) {
        this.broken = new StorageError('closed', `Cannot write "${this.path}": truncating a failed append failed: ${(undoErr as Error).message}`)
      }
      throw asStorageError(err, `Cannot append to "${this.path}"`)
    }
    this.bytes += bytes.length
    this.records++
    return true
  }

  /**
   * Replaces the file atomically by `schema` plus one `snapshot` record: temp file in the same directory, fsync,
   * rename over the database, fsync the directory. The snapshot must include every append issued before.
   */
  compact(schema: object, snapshot: object): Promise<void> {
    return this.enqueue('compact', true, () =>
      Buffer.concat([encodeRecord(schema, sha1Hex, {limits: this.limits}), encodeRecord(snapshot, sha1Hex, {limits: this.limits})]),
    )
  }

  /** Current size and history; every byte counted is durable. */
  stats(): FileLogStats {
    return {
      bytes: this.bytes,
      records: this.records,
      bytesAtLastCompaction: this.bytesAtLastCompaction,
      recordsAtLastCompaction: this.recordsAtLastCompaction,
      ...(this.lastCompactionMs === undefined ? {} : {lastCompactionMs: this.lastCompactionMs}),
      openedMs: this.openedMs,
      appendSyncs: this.appendSyncs,
    }
  }

  /** Waits for queued writes, then closes the file and releases the lock. Later calls reject with 'closed'. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.draining
    await this.fd.close()
    await this.lock?.release()
  }

  private enqueue(kind: Operation['kind'], sync: boolean, encode: () => Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new StorageError('closed', `Cannot write "${this.path}": log is closed`))
    if (this.broken) return Promise.reject(this.broken)
    let bytes: Buffer
    try {
      bytes = encode()
    } catch (err) {
      // A record over recordBytesMax is an expected failure; a record that is not a JSON object is a caller bug.
      return Promise.reject(err instanceof RangeError ? new StorageError('limit', `Cannot write "${this.path}": ${err.message}`) : err)
    }
    return new Promise<void>((resolve, reject) => {
      if (kind === 'append') this.pendingBytes += bytes.length
      this.queue.push({kind, bytes, sync, resolve, reject})
      this.draining ??= this.drain()
    })
  }

  /** The single writer: takes batches of appends, or one compaction, until the queue is empty. */
  private async drain(): Promise<void> {
    // Yield once so that appends issued in the same tick as the first one join its batch.
    await Promise.resolve()
    while (this.queue.length > 0) {
      if (this.broken) {
        for (const op of this.queue.splice(0)) op.reject(this.broken)
        break
      }
      if (this.queue[0].kind === 'compact') await this.runCompaction(this.queue.shift()!)
      else await this.runBatch(this.takeBatch())
    }
    this.pendingBytes = 0
    this.draining = null
  }

  private takeBatch(): Operation[] {
    const batch = [this.queue.shift()!]
    let size = batch[0].bytes.length
    while (this.queue.length > 0 && this.queue[0].kind === 'append' && size + this.queue[0].bytes.length <= this.limits.batchBytesMax) {
      size += this.queue[0].bytes.length
      batch.push(this.queue.shift()!)
    }
    return batch
  }

  private async runBatch(batch: Operation[]): Promise<void> {
    const data = batch.length === 1 ? batch[0].bytes : Buffer.concat(batch.map((op) => op.bytes))
    const start = this.bytes
    try {
      await writeAll(this.fd, data, start)
      if (batch.some((op) => op.sync)) {
        await this.fd.datasync()
        this.appendSyncs++
      }
      this.bytes += data.length
      this.records += batch.length
      this.pendingBytes -= data.length
      for (const op of batch) op.resolve()
    } catch (err) {
      this.pendingBytes -= data.length
      // Leave the file at a record boundary, so the records already acknowledged stay readable.
      await this.fd.truncate(start).catch((undoErr: Error) => {
        this.broken = new StorageError('closed', `Cannot write "${this.path}": truncating a failed append failed: ${undoErr.message}`)
      })
      const failure = asStorageError(err, `Cannot append to "${this.path}"`)
      for (const op of batch) op.reject(failure)
    }
  }

  private async runCompaction(op: Operation): Promise<void> {
    const dir = path.dirname(this.path)
    const temp = compactionTempPath(this.path)
    let fresh: FileHandle | undefined
    try {
      const mode = (await this.fd.stat()).mode & 0o777
      fresh = await fsp.open(temp, 'w', mode)
      await writeAll(fresh, op.bytes, 0)
      await fresh.sync()
      await fsp.rename(temp, this.path)
    } catch (err) {
      await fresh?.close().catch(() => {})
      await fsp.rm(temp, {force: true}).catch(() => {})
      op.reject(asStorageError(err, `Cannot compact "${this.path}"`))
      return
    }
    // The rename is done: the new file is the database from here on, whatever happens next.
    const old = this.fd
    this.fd = fresh
    this.bytes = op.bytes.length
    this.records = 1
    this.bytesAtLastCompaction = this.bytes
    this.recordsAtLastCompaction = 1
    this.lastCompactionMs = this.nowMs()
    await old.close().catch(() => {})
    try {
      await syncDirectory(dir)
      op.resolve()
    } catch (err) {
      op.reject(asStorageError(err, `Cannot compact "${this.path}": renamed, but syncing the directory failed`))
    }
  }
}

/** The temp file a compaction writes before renaming it over the database: same directory, so rename is atomic. */
function compactionTempPath(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.~ovnctl-compact~`)
}

async function readWhole(fd: FileHandle, file: string, fileBytesMax: number): Promise<Buffer> {
  const {size} = await fd.stat()
  if (size > fileBytesMax) {
    throw new StorageError('limit', `Cannot open "${file}" of ${size} bytes: fileBytesMax=${fileBytesMax}`)
  }
  const buf = Buffer.alloc(size)
  let done = 0
  while (done < size) {
    const {bytesRead} = await fd.read(buf, done, size - done, done)
    if (bytesRead === 0) break
    done += bytesRead
  }
  return buf.subarray(0, done)
}

function asStorageError(err: unknown, what: string): StorageError {
  if (err instanceof StorageError) return err
  return new StorageError('io', `${what}: ${(err as Error).message}`, {cause: err})
}
