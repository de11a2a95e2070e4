/**
 * cluster/status as data (ovsdb-server(1) "cluster/status db"), and the 4-hex-digit abbreviation OVS uses
 * for server and cluster ids in its logs and status output.
 */
import type {RaftState} from './state.js'
import type {Membership, PeerStatus, RaftStatus} from './types.js'

/** The first 4 characters of an id, as OVS shows sids and cids (e.g. "4f2a"). */
export function abbreviateId(id: string): string {
  return id.slice(0, 4)
}

/** Whether the server is joining, a member, leaving or gone, as cluster/status says. */
export function membershipOf(s: RaftState): Membership {
  if (s.joinTargets.length > 0 && !s.isVoter(s.id)) return 'joining cluster'
  const committed = s.log.serversAt(s.log.committed)
  if (!Object.hasOwn(committed, s.id) && !s.isVoter(s.id)) return 'left cluster'
  return s.leaving ? 'leaving cluster' : 'cluster member'
}

/** Builds the status of a server from its state. */
export function statusOf(s: RaftState): RaftStatus {
  const servers = s.servers()
  const peers: PeerStatus[] = []
  for (const [id, pr] of s.progress) {
    const address = servers[id] ?? s.catchups.get(id)?.address ?? ''
    peers.push({id, address, voter: Object.hasOwn(servers, id), matchIndex: pr.match, nextIndex: pr.next, state: pr.state})
  }
  return {
    id: s.id,
    clusterId: s.clusterId,
    membership: membershipOf(s),
    role: s.role,
    term: s.term,
    leader: s.leader,
    vote: s.vote,
    electionTimerMs: s.electionTimerMs,
    logStart: s.log.firstIndex,
    logEnd: s.log.lastIndex + 1,
    commitIndex: s.log.committed,
    appliedIndex: s.log.applied,
    servers,
    peers,
  }
}
