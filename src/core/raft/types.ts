/**
 * The values the Raft core takes in and hands out: log entries, snapshots, persisted state, messages and the
 * Ready batch. Server ids are strings (OVS uses UUIDs for the server id "sid" and the cluster id "cid",
 * ovsdb(7) "Clustered Database Service Model"); the core never interprets them.
 */

/** A server's id within the cluster (a UUID string in OVS, shown abbreviated to 4 hex digits). */
export type ServerId = string

/** The cluster configuration: each server's id mapped to its address (ovsdb(5) `<servers>`). */
export type Servers = Readonly<Record<ServerId, string>>

/** What a command entry carries: opaque bytes or a JSON value (an OVSDB `<cluster-txn>`). */
export type EntryData = Uint8Array | object

/** Fields every log entry has (ovsdb(5) clustered format: "term" and "index"). */
interface EntryBase {
  readonly term: number
  readonly index: number
}

/** An application command, proposed by a client through the leader. */
export interface CommandEntry extends EntryBase {
  readonly kind: 'command'
  readonly data: EntryData
}

/** The empty entry a new leader appends so that it can commit entries of earlier terms (Raft thesis §6.4). */
export interface NoopEntry extends EntryBase {
  readonly kind: 'noop'
}

/** A new configuration, in effect as soon as it is in a server's log (Raft thesis §4.1). */
export interface ServersEntry extends EntryBase {
  readonly kind: 'servers'
  readonly servers: Servers
}

/** A new election timer base value, in effect once committed (ovsdb(5) "election_timer" member). */
export interface ElectionTimerEntry extends EntryBase {
  readonly kind: 'electionTimer'
  readonly electionTimerMs: number
}

/** One entry of the replicated log. */
export type Entry = CommandEntry | NoopEntry | ServersEntry | ElectionTimerEntry

/** What a snapshot stands for: the log up to `index`, with the configuration and timer in effect there. */
export interface SnapshotMeta {
  readonly index: number
  readonly term: number
  readonly servers: Servers
  readonly electionTimerMs: number
}

/** A snapshot of the application's state at `index` (ovsdb(5) "prev_index", "prev_term", "prev_data"...). */
export interface Snapshot extends SnapshotMeta {
  readonly data: Uint8Array
}

/** The state that must be on disk before any message is sent (Raft §5 Figure 2, "persistent state"). */
export interface HardState {
  readonly term: number
  readonly vote: ServerId | null
  readonly commit: number
}

/** Everything a server has on disk: what RaftNode is built from after a restart. */
export interface PersistedState {
  readonly hardState: HardState
  readonly snapshot: Snapshot
  readonly entries: readonly Entry[]
}

/** A server's role in the current term. */
export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader'

/** Volatile state that is useful to the driver but need not be persisted. */
export interface SoftState {
  readonly role: Role
  readonly leader: ServerId | null
}

interface MessageBase {
  readonly from: ServerId
  readonly to: ServerId
  /** The sender's term; 0 for the membership requests, which are not part of the Raft term protocol. */
  readonly term: number
}

/** Raft AppendEntries RPC (§5.3); the empty form probes where the follower's log matches. */
export interface AppendRequest extends MessageBase {
  readonly type: 'appendRequest'
  readonly prevIndex: number
  readonly prevTerm: number
  readonly entries: readonly Entry[]
  readonly commit: number
}

/**
 * Reply to AppendRequest, and to an InstallSnapshot that completed. On success `index` is the last index the
 * follower now matches; on failure it is the rejected prevIndex, with a hint of where the logs may match
 * (the follower's last index at or before it whose term is at most prevTerm: fast backtracking, thesis §5.3).
 */
export interface AppendReply extends MessageBase {
  readonly type: 'appendReply'
  readonly success: boolean
  readonly index: number
  readonly hintIndex: number
  readonly hintTerm: number
}

/** Leader liveness and commit index; carries min(follower's match, commit) so it is always safe to apply. */
export interface Heartbeat extends MessageBase {
  readonly type: 'heartbeat'
  readonly commit: number
}

/** Reply to a heartbeat: tells the leader the follower is alive (check-quorum) and may resume probing. */
export interface HeartbeatReply extends MessageBase {
  readonly type: 'heartbeatReply'
}

/** RequestVote RPC (§5.2), or a pre-vote (thesis §9.6) whose term is the one the sender would campaign in. */
export interface VoteRequest extends MessageBase {
  readonly type: 'voteRequest'
  readonly preVote: boolean
  readonly lastIndex: number
  readonly lastTerm: number
  /** Set when the campaign follows a leadership transfer: voters then ignore their leader lease (thesis §3.10). */
  readonly transfer: boolean
}

/** Answer to a VoteRequest. A granted reply carries the request's term. */
export interface VoteReply extends MessageBase {
  readonly type: 'voteReply'
  readonly preVote: boolean
  readonly granted: boolean
}

/** One chunk of InstallSnapshot (§7). Chunks are sent one at a time, in order. */
export interface SnapshotRequest extends MessageBase {
  readonly type: 'snapshotRequest'
  readonly meta: SnapshotMeta
  readonly totalBytes: number
  readonly offset: number
  readonly chunk: Uint8Array
}

/** Acknowledges the snapshot bytes received so far; completion is acknowledged with an AppendReply. */
export interface SnapshotReply extends MessageBase {
  readonly type: 'snapshotReply'
  readonly snapshotIndex: number
  readonly receivedBytes: number
}

/** Tells the transfer target to start an election at once (thesis §3.10). */
export interface TimeoutNow extends MessageBase {
  readonly type: 'timeoutNow'
}

/** A joining server asks the leader to add it (ovsdb-server(1) cluster join; thesis §4.2.1 catch-up). */
export interface AddServerRequest extends MessageBase {
  readonly type: 'addServerRequest'
  readonly address: string
}

/** A server asks the leader to remove `server` (itself for cluster/leave, another for cluster/kick). */
export interface RemoveServerRequest extends MessageBase {
  readonly type: 'removeServerRequest'
  readonly server: ServerId
}

/** Outcome of a membership request, with where the leader is when the receiver is not it. */
export interface MembershipReply extends MessageBase {
  readonly type: 'membershipReply'
  readonly server: ServerId
  readonly status: MembershipReplyStatus
  readonly leaderHint: ServerId | null
}

/** Status strings of a membership reply, after OVS's raft-rpc "add_server_reply"/"remove_server_reply". */
export type MembershipReplyStatus = 'in progress' | 'committed' | 'not leader' | 'busy' | 'no such server' | 'rejected'

/** Any message between servers. */
export type Message =
  | AppendRequest
  | AppendReply
  | Heartbeat
  | HeartbeatReply
  | VoteRequest
  | VoteReply
  | SnapshotRequest
  | SnapshotReply
  | TimeoutNow
  | AddServerRequest
  | RemoveServerRequest
  | MembershipReply

/**
 * What the driver must do next, in this order: persist `snapshot`, then `entries`, then `hardState` (one sync);
 * then send `messages` (those for which sendableBeforePersist() holds may leave before the sync starts); load `snapshot` into the state machine if its index is beyond what was applied; apply
 * `committedEntries`; then call advance(). Persisting `snapshot`: replace the stored snapshot, and keep the
 * stored entries after it only if the stored log holds an entry at snapshot.index with snapshot.term (Raft
 * §7), else drop them all. Persisting `entries`: drop stored entries from entries[0].index on, then append.
 */
export interface Ready {
  readonly softState?: SoftState
  readonly hardState?: HardState
  readonly snapshot?: Snapshot
  readonly entries: readonly Entry[]
  readonly messages: readonly Message[]
  readonly committedEntries: readonly Entry[]
}

/** Replication state of one peer as the leader sees it (cluster/status "next_index", "match_index"). */
export interface PeerStatus {
  readonly id: ServerId
  readonly address: string
  readonly voter: boolean
  readonly matchIndex: number
  readonly nextIndex: number
  readonly state: 'probe' | 'replicate' | 'snapshot'
}

/** Where this server stands in the cluster (cluster/status "Status:" line). */
export type Membership = 'cluster member' | 'joining cluster' | 'leaving cluster' | 'left cluster'

/** What `ovs-appctl cluster/status` shows, as data. */
export interface RaftStatus {
  readonly id: ServerId
  readonly clusterId: string | null
  readonly membership: Membership
  readonly role: Role
  readonly term: number
  readonly leader: ServerId | null
  readonly vote: ServerId | null
  readonly electionTimerMs: number
  /** First index held in the log (after the snapshot) and one past the last: cluster/status "Log: [a, b]". */
  readonly logStart: number
  readonly logEnd: number
  readonly commitIndex: number
  readonly appliedIndex: number
  readonly servers: Servers
  /** Per-peer replication state; only a leader has it. */
  readonly peers: readonly PeerStatus[]
}
