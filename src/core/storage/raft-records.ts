/**
 * The records of a clustered database file (ovsdb(5) "Clustered Format") and their mapping to the Raft core's
 * values: the header record (server_id, local_address, name, cluster_id, prev_* snapshot), Entry records
 * ({term, index} plus data/eid, servers or election_timer), Term/Vote records ({term[, vote]}) and Commit Index
 * records ({commit_index}). Leader and Note records are read and ignored, as they do not affect correctness.
 * Pure: no I/O.
 */
import type {Entry, HardState, PersistedState, Servers, Snapshot} from '../raft/index.js'

/** The election timer a file without "prev_election_timer" implies (ovsdb(5)). */
export const prevElectionTimerMsDefault = 1000

/** What the first record of a clustered file says about the server. */
export interface RaftFileHeader {
  readonly serverId: string
  readonly localAddress: string
  readonly name: string
  /** Null for a server created by join-cluster that has not yet learned its cluster's id. */
  readonly clusterId: string | null
  /** join-cluster's remote addresses: whom to ask to add this server until it is a member. */
  readonly remoteAddresses: readonly string[]
}

/** The database content of a snapshot or entry: an ovsdb(5) <cluster-txn> and its entry id. */
export interface ClusterData {
  /** [schema or null, transaction record or null] (ovsdb(5) <cluster-txn>). */
  readonly data: readonly [object | null, object | null]
  readonly eid: string
}

/**
 * The content each snapshot's bytes were encoded from: writing a snapshot into the file needs it as JSON again,
 * and parsing back a whole database that this process just serialized would double the cost of a compaction.
 */
const encodedFrom = new WeakMap<Uint8Array, ClusterData>()

/** Encodes snapshot content as the bytes the Raft core carries (JSON text, UTF-8). */
export function encodeSnapshotData(content: ClusterData): Uint8Array {
  const bytes = new TextEncoder().encode(JSON.stringify(content))
  encodedFrom.set(bytes, content)
  return bytes
}

/** Decodes snapshot bytes made by encodeSnapshotData; an empty snapshot (a joining server's) is null. */
export function decodeSnapshotData(bytes: Uint8Array): ClusterData | null {
  if (bytes.length === 0) return null
  const known = encodedFrom.get(bytes)
  if (known !== undefined) return known
  const parsed = JSON.parse(new TextDecoder().decode(bytes)) as ClusterData
  if (!Array.isArray(parsed.data) || typeof parsed.eid !== 'string') {
    throw new Error(`Invalid snapshot data: expected {"data": [schema, record], "eid": uuid}`)
  }
  return parsed
}

/** The header record for `header` with the snapshot `snapshot` (omitted while it is empty, as join-cluster writes). */
export function headerRecord(header: RaftFileHeader, snapshot: Snapshot): Record<string, unknown> {
  const out: Record<string, unknown> = {
    server_id: header.serverId,
    local_address: header.localAddress,
    name: header.name,
  }
  if (header.clusterId !== null) out.cluster_id = header.clusterId
  const content = decodeSnapshotData(snapshot.data)
  // ovsdb(5) has a joining server's header hold remote_addresses and no snapshot; once it holds one, the servers
  // of that snapshot are whom it asks (ovsdb-tool refuses a header with both).
  if (header.remoteAddresses.length > 0 && content === null) out.remote_addresses = header.remoteAddresses
  if (content !== null) {
    out.prev_term = snapshot.term
    out.prev_index = snapshot.index
    out.prev_servers = snapshot.servers
    out.prev_election_timer = snapshot.electionTimerMs
    out.prev_data = content.data
    out.prev_eid = content.eid
  }
  return out
}

function str(r: Record<string, unknown>, key: string, what: string): string {
  const v = r[key]
  if (typeof v !== 'string') throw new Error(`Invalid ${what}: "${key}" must be a string, not ${JSON.stringify(v)}`)
  return v
}

function num(r: Record<string, unknown>, key: string, what: string): number {
  const v = r[key]
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new Error(`Invalid ${what}: "${key}" must be a non-negative integer, not ${JSON.stringify(v)}`)
  }
  return v
}

/** Parses the header record: who this server is, and the snapshot the log starts after. */
export function parseHeader(r: Record<string, unknown>): {header: RaftFileHeader; snapshot: Snapshot} {
  const what = 'clustered database header'
  const remotes = r.remote_addresses
  const header: RaftFileHeader = {
    serverId: str(r, 'server_id', what),
    localAddress: str(r, 'local_address', what),
    name: str(r, 'name', what),
    clusterId: typeof r.cluster_id === 'string' ? r.cluster_id : null,
    remoteAddresses: Array.isArray(remotes) ? remotes.map(String) : [],
  }
  if (!('prev_index' in r)) {
    return {header, snapshot: {index: 0, term: 0, servers: {}, electionTimerMs: prevElectionTimerMsDefault, data: new Uint8Array()}}
  }
  const data = r.prev_data
  if (!Array.isArray(data) || data.length !== 2) throw new Error(`Invalid ${what}: "prev_data" must be [schema, record]`)
  const snapshot: Snapshot = {
    index: num(r, 'prev_index', what),
    term: num(r, 'prev_term', what),
    servers: (r.prev_servers ?? {}) as Servers,
    electionTimerMs: typeof r.prev_election_timer === 'number' ? r.prev_election_timer : prevElectionTimerMsDefault,
    data: encodeSnapshotData({data: data as [object | null, object | null], eid: str(r, 'prev_eid', what)}),
  }
  return {header, snapshot}
}

/** The Entry record of a log entry. */
export function entryRecord(e: Entry): Record<string, unknown> {
  const out: Record<string, unknown> = {term: e.term, index: e.index}
  switch (e.kind) {
    case 'command': {
      const content = e.data as ClusterData
      out.data = content.data
      out.eid = content.eid
      break
    }
    case 'servers':
      out.servers = e.servers
      break
    case 'electionTimer':
      out.election_timer = e.electionTimerMs
      break
    case 'noop':
      break
  }
  return out
}

/** The log entry of an Entry record. */
export function recordEntry(r: Record<string, unknown>): Entry {
  const what = 'Entry record'
  const term = num(r, 'term', what)
  const index = num(r, 'index', what)
  if ('servers' in r) return {kind: 'servers', term, index, servers: r.servers as Servers}
  if ('election_timer' in r) return {kind: 'electionTimer', term, index, electionTimerMs: num(r, 'election_timer', what)}
  if ('data' in r) {
    const content: ClusterData = {data: r.data as [object | null, object | null], eid: str(r, 'eid', what)}
    return {kind: 'command', term, index, data: content}
  }
  return {kind: 'noop', term, index}
}

/** The Term or Vote record of a hard state. */
export function hardStateRecord(h: HardState): Record<string, unknown> {
  return h.vote === null ? {term: h.term} : {term: h.term, vote: h.vote}
}

/** Replays the records after the header into the state the Raft core is built from. */
export function replayRecords(snapshot: Snapshot, records: readonly Record<string, unknown>[]): PersistedState {
  let entries: Entry[] = []
  let term = snapshot.term
  let vote: string | null = null
  let commit = snapshot.index
  for (const r of records) {
    if ('index' in r) {
      const e = recordEntry(r)
      if (e.index <= snapshot.index) continue
      // A later entry at an index already held replaces it and everything after (Raft §5.3 truncation).
      entries = entries.filter((x) => x.index < e.index)
      if (e.index !== snapshot.index + entries.length + 1) {
        throw new Error(`Invalid clustered log: entry ${e.index} does not follow index ${snapshot.index + entries.length}`)
      }
      entries.push(e)
    } else if ('commit_index' in r) {
      commit = Math.max(commit, num(r, 'commit_index', 'Commit Index record'))
    } else if ('term' in r && !('leader' in r)) {
      const t = num(r, 'term', 'Term record')
      if (t > term) vote = null
      term = Math.max(term, t)
      if (typeof r.vote === 'string' && t === term) vote = r.vote
    }
  }
  commit = Math.min(commit, snapshot.index + entries.length)
  return {hardState: {term, vote, commit}, snapshot, entries}
}
