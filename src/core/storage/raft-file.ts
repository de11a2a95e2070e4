/**
 * The durable Raft log of one server, in the clustered database format of ovsdb(5) (magic "CLUSTER"), so that
 * `ovsdb-tool show-log`, `db-cid`, `db-sid` and `cluster-to-standalone` read our files. Each Ready of the Raft
 * core is written as one batch of records and made durable by one fdatasync before its messages are sent (the
 * Ready contract): while that sync runs, the driver gathers the next Ready, so syncs are shared (group commit).
 * A snapshot in a Ready rewrites the file (temp file, fsync, rename, fsync of the directory): the header then
 * carries the snapshot as prev_*, followed by the entries kept after it.
 */
import fs, {promises as fsp} from 'node:fs'
import type {FileHandle} from 'node:fs/promises'
import path from 'node:path'
import type {Entry, HardState, PersistedState, Ready, Snapshot} from '../raft/index.js'
import {StorageError} from './errors.js'
import {syncDirectory, writeAll, writeAllSync} from './file-io.js'
import {sha1Hex} from './file-log.js'
import {decodeLog, encodeRecord, fileMagic, magicClustered} from './log-format.js'
import {PidLock} from './pid-lock.js'
import {
  type RaftFileHeader,
  entryRecord,
  hardStateRecord,
  headerRecord,
  parseHeader,
  replayRecords,
} from './raft-records.js'

/** What opening a clustered file found. */
export interface OpenedRaftFile {
  readonly file: RaftFile
  readonly header: RaftFileHeader
  readonly state: PersistedState
  /** What was dropped from a torn or corrupt tail. */
  readonly dropped: {offset: number; bytes: number; reason: string} | null
}

/** Whether `file` starts with a clustered record header (ovsdb-tool db-is-clustered). */
export async function isClusteredFile(file: string): Promise<boolean> {
  const fd = await fsp.open(file, 'r')
  try {
    const buf = Buffer.alloc(128)
    const {bytesRead} = await fd.read(buf, 0, buf.length, 0)
    return fileMagic(buf.subarray(0, bytesRead)) === magicClustered
  } finally {
    await fd.close()
  }
}

function encode(record: object): Buffer {
  return encodeRecord(record, sha1Hex, {magic: magicClustered})
}

/** One open clustered database file. */
export class RaftFile {
  private snap: Snapshot
  private ents: Entry[]
  private hard: HardState
  /** The commit index last written to the file. */
  private commitWritten: number
  private closed = false
  /** fdatasync calls made, for memory/show and tests of batching. */
  syncs = 0
  /** The compaction being written in the background, if any. */
  private compacting: Promise<void> | null = null
  private compactionError: Error | null = null
  /** Bumped by every rewrite: a background compaction of an older generation is stale. */
  private generation = 0
  /** The tail of the chain of persists and compaction switches. */
  private turn: Promise<void> = Promise.resolve()
  /** Size of the file after the last rewrite (or of its header record, as opened), for the compaction rule. */
  bytesAtLastCompaction = 0

  private constructor(
    readonly path: string,
    private fd: FileHandle,
    private readonly lock: PidLock,
    private hdr: RaftFileHeader,
    state: PersistedState,
    private bytes: number,
  ) {
    this.snap = state.snapshot
    this.ents = [...state.entries]
    this.hard = state.hardState
    this.commitWritten = state.hardState.commit
  }

  /** Writes a new file holding only a header record (create-cluster with a snapshot, join-cluster without). */
  static async create(file: string, header: RaftFileHeader, snapshot: Snapshot): Promise<void> {
    const bytes = encode(headerRecord(header, snapshot))
    let fd: FileHandle
    try {
      fd = await fsp.open(file, 'wx', 0o640)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new StorageError('exists', `Cannot create "${file}": file exists`)
      throw new StorageError('io', `Cannot create "${file}": ${(err as Error).message}`, {cause: err})
    }
    try {
      await fd.write(bytes, 0, bytes.length, 0)
      await fd.datasync()
    } finally {
      await fd.close()
    }
    await syncDirectory(path.dirname(file))
  }

  /** Opens a clustered file and replays it; a torn or corrupt tail is dropped (truncated). */
  static async open(file: string): Promise<OpenedRaftFile> {
    const lock = await PidLock.acquire(file)
    let fd: FileHandle | undefined
    try {
      await fsp.rm(tempPath(file), {force: true})
      await fsp.rm(compactPath(file), {force: true})
      fd = await fsp.open(file, 'r+')
      const buf = await fd.readFile()
      const decoded = decodeLog(buf, sha1Hex, {magic: magicClustered})
      if (decoded.records.length === 0) {
        const why = decoded.stop ? `${decoded.stop.reason}: ${decoded.stop.detail}` : 'file is empty'
        throw new StorageError('corrupt', `Cannot open "${file}": no clustered header record: ${why}`)
      }
      let dropped = null
      if (decoded.stop !== null) {
        dropped = {offset: decoded.stop.offset, bytes: buf.length - decoded.stop.offset, reason: `${decoded.stop.reason}: ${decoded.stop.detail}`}
        await fd.truncate(decoded.stop.offset)
        await fd.datasync()
      }
      const [first, ...rest] = decoded.records.map((r) => r.json)
      let parsed
      try {
        parsed = parseHeader(first)
        const state = replayRecords(parsed.snapshot, rest)
        const raftFile = new RaftFile(file, fd, lock, parsed.header, state, decoded.validBytes)
        const headerRecord = decoded.records[0]
        raftFile.bytesAtLastCompaction = headerRecord.offset + headerRecord.length
        return {file: raftFile, header: parsed.header, state, dropped}
      } catch (err) {
        throw new StorageError('corrupt', `Cannot open "${file}": ${(err as Error).message}`)
      }
    } catch (err) {
      await fd?.close().catch(() => {})
      await lock.release()
      if (err instanceof StorageError) throw err
      throw new StorageError('io', `Cannot open "${file}": ${(err as Error).message}`, {cause: err})
    }
  }

  /** The header as it will be written at the next rewrite. */
  get header(): RaftFileHeader {
    return this.hdr
  }

  /** Records the cluster id a joining server learned; written with the next snapshot. */
  learnClusterId(clusterId: string): void {
    if (this.hdr.clusterId === null) this.hdr = {...this.hdr, clusterId}
  }

  /** Forgets join-cluster's remote addresses once the server is a member (written at the next rewrite). */
  joined(): void {
    if (this.hdr.remoteAddresses.length > 0) this.hdr = {...this.hdr, remoteAddresses: []}
  }

  /** The stored snapshot. */
  get snapshot(): Snapshot {
    return this.snap
  }

  /** The stored entries after the snapshot. */
  get entries(): readonly Entry[] {
    return this.ents
  }

  /** Bytes in the file. */
  get sizeBytes(): number {
    return this.bytes
  }

  /** Makes a Ready's snapshot, entries and hard state durable (Ready contract in src/core/raft/types.ts). */
  persist(rd: Ready, options?: {inline: boolean}): Promise<void> {
    return this.exclusive(() => this.persistNow(rd, options?.inline ?? false))
  }

  private async persistNow(rd: Ready, inline: boolean): Promise<void> {
    if (this.closed) throw new StorageError('closed', `Cannot write "${this.path}": log is closed`)
    if (rd.snapshot) {
      const kept = this.applySnapshot(rd.snapshot)
      this.applyEntries(rd.entries)
      if (rd.hardState) this.hard = rd.hardState
      // A compaction keeps the log after the snapshot, so the old file stays valid while the new one is
      // written: do that in the background and go on appending (heartbeats and commits do not wait).
      if (kept && rd.entries.length === 0 && this.compacting === null) return this.compactInBackground()
      return this.rewrite()
    }
    const parts: Buffer[] = rd.entries.map((e) => encode(entryRecord(e)))
    this.applyEntries(rd.entries)
    // Entries, term and vote must be on disk before messages leave; the commit index need not be (Raft §3.8:
    // a restarted server learns it again from the leader). A Ready that only advances it writes nothing: the
    // new index rides along with the next write, or is written on close.
    let mustSync = rd.entries.length > 0
    if (rd.hardState) {
      const h = rd.hardState
      if (h.term !== this.hard.term || h.vote !== this.hard.vote) {
        parts.push(encode(hardStateRecord(h)))
        mustSync = true
      }
      this.hard = h
    }
    // A committed configuration change is written at once, though: a server that restarts must know whether
    // it is still a member (cluster/leave) before any leader tells it.
    const membership = rd.committedEntries.some((e) => e.kind === 'servers')
    if (!mustSync && !membership) return
    if (this.hard.commit > this.commitWritten) parts.push(this.commitRecord())
    if (parts.length === 0) return
    const data = parts.length === 1 ? parts[0] : Buffer.concat(parts)
    writeAllSync(this.fd.fd, data, this.bytes)
    if (mustSync) {
      if (inline) fs.fdatasyncSync(this.fd.fd)
      else await this.fd.datasync()
      this.syncs++
    }
    this.bytes += data.length
  }

  /** Replaces the stored snapshot; returns whether the entries after it were kept (a local compaction). */
  private applySnapshot(s: Snapshot): boolean {
    const at = this.ents.find((e) => e.index === s.index)
    const kept = at !== undefined && at.term === s.term
    this.ents = kept ? this.ents.filter((e) => e.index > s.index) : []
    this.snap = s
    return kept
  }

  /** The whole file as rewrite() and compaction write it: header with the snapshot, entries, hard state. */
  private image(): Buffer {
    const parts = [encode(headerRecord(this.hdr, this.snap)), ...this.ents.map((e) => encode(entryRecord(e)))]
    parts.push(encode(hardStateRecord(this.hard)), this.commitRecord())
    return Buffer.concat(parts)
  }

  /**
   * Writes the compacted file beside the current one while appends go on; then, between two persists, copies
   * what was appended meanwhile, syncs and renames it over the current file. A rewrite() started before the
   * switch (a snapshot from the leader) makes the compacted file stale: it is then dropped.
   */
  private compactInBackground(): void {
    const image = this.image()
    const from = this.bytes
    const generation = ++this.generation
    const temp = compactPath(this.path)
    this.compacting = (async () => {
      const fresh = await fsp.open(temp, 'w+', 0o640)
      try {
        await writeAll(fresh, image, 0)
        await this.exclusive(async () => {
          if (this.closed || generation !== this.generation) throw new Error('superseded by a newer rewrite')
          const tail = Buffer.alloc(this.bytes - from)
          if (tail.length > 0) fs.readSync(this.fd.fd, tail, 0, tail.length, from)
          writeAllSync(fresh.fd, tail, image.length)
          await fresh.sync()
          await fsp.rename(temp, this.path)
          const old = this.fd
          this.fd = fresh
          this.bytes = image.length + tail.length
          this.bytesAtLastCompaction = image.length
          this.syncs++
          await old.close().catch(() => {})
          await syncDirectory(path.dirname(this.path))
        })
      } catch (err) {
        await fresh.close().catch(() => {})
        await fsp.rm(temp, {force: true}).catch(() => {})
        // The current file still holds everything: only the space is not reclaimed yet.
        this.compactionError = err as Error
      }
    })().finally(() => (this.compacting = null))
  }

  /** Runs `fn` when no persist or compaction switch is running, so that they never interleave. */
  private exclusive(fn: () => Promise<void>): Promise<void> {
    const run = this.turn.then(fn)
    this.turn = run.catch(() => {})
    return run
  }

  /** Waits for the persists under way and a background compaction; resolves with the compaction's failure. */
  async settled(): Promise<Error | null> {
    await this.turn
    await this.compacting
    const err = this.compactionError
    this.compactionError = null
    return err
  }

  private applyEntries(entries: readonly Entry[]): void {
    if (entries.length === 0) return
    // The stored entries are contiguous: drop those from entries[0].index on by position, not by a scan.
    const keep = this.ents.length === 0 ? 0 : Math.max(0, Math.min(this.ents.length, entries[0].index - this.ents[0].index))
    this.ents.length = keep
    for (const e of entries) this.ents.push(e)
  }

  /** Rewrites the file as header (with the snapshot), entries and hard state; atomic by rename. */
  async rewrite(): Promise<void> {
    this.generation++
    const data = this.image()
    const temp = tempPath(this.path)
    const fresh = await fsp.open(temp, 'w+', 0o640)
    try {
      await writeAll(fresh, data, 0)
      await fresh.sync()
      await fsp.rename(temp, this.path)
    } catch (err) {
      await fresh.close().catch(() => {})
      await fsp.rm(temp, {force: true}).catch(() => {})
      throw new StorageError('io', `Cannot rewrite "${this.path}": ${(err as Error).message}`, {cause: err})
    }
    const old = this.fd
    this.fd = fresh
    this.bytes = data.length
    this.bytesAtLastCompaction = data.length
    this.syncs++
    await old.close().catch(() => {})
    await syncDirectory(path.dirname(this.path))
  }

  private commitRecord(): Buffer {
    this.commitWritten = this.hard.commit
    return encode({commit_index: this.hard.commit})
  }

  /** Writes the commit index if it moved since the last write, closes the file and releases its lock. */
  async close(): Promise<void> {
    if (this.closed) return
    await this.settled()
    if (this.closed) return
    if (this.hard.commit > this.commitWritten) {
      const data = this.commitRecord()
      try {
        writeAllSync(this.fd.fd, data, this.bytes)
        this.bytes += data.length
      } catch {
        // Only an optimisation for the next start: the index is learned again from the leader.
      }
    }
    this.closed = true
    await this.fd.close().catch(() => {})
    await this.lock.release()
  }
}

function tempPath(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.~ovnctl-rewrite~`)
}

function compactPath(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.~ovnctl-compact~`)
}

/** Reads only the header of a clustered file (ovsdb-tool db-sid, db-cid, db-local-address). */
export function readRaftHeader(file: string): RaftFileHeader {
  const buf = fs.readFileSync(file)
  const decoded = decodeLog(buf, sha1Hex, {magic: magicClustered})
  if (decoded.records.length === 0) throw new StorageError('corrupt', `Cannot read "${file}": no clustered header record`)
  return parseHeader(decoded.records[0].json).header
}
