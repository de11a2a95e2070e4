/**
 * The on-disk replica cache: a DigestedReplica saved so that a restarted client (db-monitor --cache,
 * digest-sync, the controller) resumes by history or digests instead of downloading every row again.
 *
 * The file is two lines: a header {"format", "version", "sha256", "bytes"} and a body {db, schema, tables,
 * lastTxnId, salt, rows}. It is written to a temporary file, synced and renamed, so a crash leaves the old
 * cache or the new one, never a mix; on reading, the length and SHA-256 of the body are checked before any of
 * it is trusted, and digests are recomputed from the rows rather than read.
 */
import {createHash} from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import {toBase64} from '../digest/base64.js'
import {DatabaseSchema} from '../ovsdb/index.js'
import {DigestedReplica, type ReplicaShape, type TableUpdates2} from './digest-replica.js'

/** The format name and the only version written and read. */
export const cacheFormat = 'ovnctl-replica-cache'
export const cacheVersion = 1

/** Largest cache file read, in bytes: bounds memory before the checksum can be checked. */
export const cacheBytesMax = 1 << 30

/** A cache file that cannot be used: missing, damaged, or for another database or shape. */
export class ReplicaCacheError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`Cannot use replica cache "${file}": ${detail}`)
    this.name = 'ReplicaCacheError'
  }
}

/** What a cache file holds: the database, its schema, the tables and columns kept, and the rows as "initial" updates. */
export interface CacheBody {
  db: string
  schema: unknown
  tables: {name: string; columns: string[]; where: unknown}[]
  lastTxnId: string
  salt: string | null
  rows: TableUpdates2
}

/** Saves a replica atomically (temporary file, fsync, rename). */
export async function saveReplicaCache(file: string, replica: DigestedReplica): Promise<void> {
  const rows: TableUpdates2 = {}
  for (const t of replica.shape.tables) {
    const out: Record<string, Record<string, unknown>> = (rows[t.name] = {})
    for (const uuid of replica.replica.uuids(t.name)) out[uuid] = {initial: replica.replica.row(t.name, uuid)!}
  }
  const body: CacheBody = {
    db: replica.shape.db,
    schema: replica.shape.schema.toJSON(),
    tables: replica.shape.tables.map((t) => ({name: t.name, columns: [...t.columns], where: t.where ?? null})),
    lastTxnId: replica.lastTxnId,
    salt: replica.salt === null ? null : toBase64(replica.salt),
    rows,
  }
  await writeCacheFile(file, body)
}

/**
 * Writes a cache body under its checked header, atomically (temporary file, fsync, rename): a crash leaves the
 * old file or the new one. Shared with the relay's replica cache (src/core/server/relay-cache.ts).
 */
export async function writeCacheFile(file: string, body: CacheBody): Promise<void> {
  const text = JSON.stringify(body)
  const header = {format: cacheFormat, version: cacheVersion, sha256: sha256(text), bytes: Buffer.byteLength(text)}
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`)
  const handle = await fs.open(temp, 'w', 0o600)
  try {
    await handle.writeFile(`${JSON.stringify(header)}\n${text}\n`)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await fs.rename(temp, file)
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

/** Reads and checks a cache file; throws ReplicaCacheError when it is damaged or not a cache. */
export async function loadReplicaCache(file: string): Promise<DigestedReplica> {
  return replicaOf(file, await readCacheFile(file))
}

/** Reads a cache file and checks its header, length and checksum; throws ReplicaCacheError when it cannot be trusted. */
export async function readCacheFile(file: string): Promise<CacheBody> {
  const stat = await fs.stat(file).catch((err: Error) => {
    throw new ReplicaCacheError(file, err.message)
  })
  if (stat.size > cacheBytesMax) throw new ReplicaCacheError(file, `${stat.size} bytes is over the ${cacheBytesMax}-byte limit`)
  const text = await fs.readFile(file, 'utf8')
  const newline = text.indexOf('\n')
  let header: {format?: unknown; version?: unknown; sha256?: unknown; bytes?: unknown}
  try {
    header = JSON.parse(newline < 0 ? text : text.slice(0, newline))
  } catch {
    throw new ReplicaCacheError(file, 'the first line is not a cache header')
  }
  if (header?.format !== cacheFormat) throw new ReplicaCacheError(file, `format ${JSON.stringify(header?.format)} is not "${cacheFormat}"`)
  if (header.version !== cacheVersion) throw new ReplicaCacheError(file, `version ${JSON.stringify(header.version)} read, only ${cacheVersion} known`)
  const body = text.slice(newline + 1).replace(/\n$/, '')
  if (Buffer.byteLength(body) !== header.bytes || sha256(body) !== header.sha256) {
    throw new ReplicaCacheError(file, 'its checksum does not match: the file is truncated or damaged')
  }
  const parsed = JSON.parse(body) as CacheBody
  if (typeof parsed !== 'object' || parsed === null || typeof parsed.db !== 'string' || typeof parsed.lastTxnId !== 'string') {
    throw new ReplicaCacheError(file, 'its body is not a replica cache')
  }
  return parsed
}

function replicaOf(file: string, body: CacheBody): DigestedReplica {
  let replica: DigestedReplica
  try {
    const schema = DatabaseSchema.fromJSON(body.schema)
    replica = new DigestedReplica({db: body.db, schema, tables: body.tables})
    replica.apply(body.rows)
  } catch (err) {
    throw new ReplicaCacheError(file, (err as Error).message)
  }
  replica.lastTxnId = body.lastTxnId
  if (body.salt !== null) replica.setSalt(body.salt)
  return replica
}

/** True when the cached replica holds exactly `shape` (same database, schema version, tables, columns, conditions). */
export function cacheFits(replica: DigestedReplica, shape: ReplicaShape): boolean {
  const wanted = new DigestedReplica(shape).fingerprint
  return replica.fingerprint.hi === wanted.hi && replica.fingerprint.lo === wanted.lo
}

/**
 * The replica to start a client with: the cache at `file` when it exists and holds `shape`, else an empty
 * one. `reason` says why the cache was not used (for a log line), undefined when it was or there was none.
 */
export async function openReplica(file: string | undefined, shape: ReplicaShape): Promise<{replica: DigestedReplica; reason?: string}> {
  if (file === undefined) return {replica: new DigestedReplica(shape)}
  try {
    const cached = await loadReplicaCache(file)
    if (cacheFits(cached, shape)) return {replica: cached}
    return {replica: new DigestedReplica(shape), reason: `"${file}" holds another database, schema version, table set or condition`}
  } catch (err) {
    if (err instanceof ReplicaCacheError && /ENOENT/.test(err.message)) return {replica: new DigestedReplica(shape)}
    return {replica: new DigestedReplica(shape), reason: (err as Error).message}
  }
}
