/** Named bounds of the Raft core, with their defaults. Every queue and batch the core keeps has one. */
export interface RaftLimits {
  /** Entries in one AppendRequest. */
  appendEntriesMax: number
  /** Bytes of entry data in one AppendRequest (at least one entry is always sent). */
  appendBytesMax: number
  /** Entries sent to one follower and not yet acknowledged, in replicate state (flow control). */
  inflightEntriesMax: number
  /** Bytes sent to one follower and not yet acknowledged, in replicate state (flow control). */
  inflightBytesMax: number
  /** Bytes of snapshot data in one InstallSnapshot chunk. */
  snapshotChunkBytesMax: number
  /** Entries the leader holds beyond the commit index; further proposals are refused. */
  uncommittedEntriesMax: number
  /** Committed entries handed out in one Ready. */
  applyEntriesMax: number
  /** Joining servers that may catch up at once. */
  catchupServersMax: number
}

/** Defaults, sized for OVSDB transactions (a few KiB each) over a LAN. */
export const defaultRaftLimits: RaftLimits = {
  appendEntriesMax: 1024,
  appendBytesMax: 1024 * 1024,
  inflightEntriesMax: 8192,
  inflightBytesMax: 16 * 1024 * 1024,
  snapshotChunkBytesMax: 1024 * 1024,
  uncommittedEntriesMax: 65536,
  applyEntriesMax: 4096,
  catchupServersMax: 4,
}

/** The election timer's default base value (ovsdb(5): "prev_election_timer" defaults to 1000 ms). */
export const electionTimerMsDefault = 1000

/** Smallest election timer OVS accepts (cluster/change-election-timer). */
export const electionTimerMsMin = 100

/** Largest election timer OVS accepts (cluster/change-election-timer). */
export const electionTimerMsMax = 600000
