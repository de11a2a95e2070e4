/**
 * Cluster membership, one server at a time (Raft thesis §4.1): a joining server first catches up as a
 * non-voting learner, then the leader appends the configuration that adds it (§4.2.1); removal appends the
 * configuration without the server; a leader that is asked to remove itself hands leadership over first and
 * then asks the new leader (as ovsdb-server's cluster/leave does). At most one configuration entry is
 * uncommitted at a time, and none before the leader committed an entry of its own term (the fix of §4.1).
 */
import {startTransfer} from './election.js'
import {Progress} from './progress.js'
import {broadcastAppend, maybeCommit, sendAppend} from './replication.js'
import type {RaftState} from './state.js'
import type {AddServerRequest, MembershipReply, MembershipReplyStatus, RemoveServerRequest, Servers} from './types.js'

/** Why a configuration change cannot start now, or null when it can. */
export function changeBlocked(s: RaftState): string | null {
  if (s.log.committed < s.termStartIndex) return 'the leader has not yet committed an entry of its term'
  const pending = s.log.latestServers().index
  if (pending > s.log.committed) return `the configuration change at index ${pending} is not yet committed`
  return null
}

/** Leader: appends a new configuration, which is in effect at once (thesis §4.1). */
function appendServers(s: RaftState, servers: Servers): void {
  s.log.append([{kind: 'servers', term: s.term, index: s.log.lastIndex + 1, servers}])
  maybeCommit(s)
  if (s.role === 'leader') broadcastAppend(s)
}

/** Leader: starts catching `id` up; its configuration entry follows once it holds the committed log. */
export function addServer(s: RaftState, id: string, address: string): MembershipReplyStatus {
  if (Object.hasOwn(s.servers(), id)) return 'committed'
  if (s.catchups.has(id)) return 'in progress'
  // Two servers at one address would receive each other's messages: a new server must use an address of its own.
  const taken = Object.values(s.servers()).includes(address) || [...s.catchups.values()].some((c) => c.address === address)
  if (taken) return 'rejected'
  if (s.catchups.size >= s.limits.catchupServersMax) return 'busy'
  s.catchups.set(id, {address, active: true})
  if (!s.progress.has(id)) s.progress.set(id, new Progress(s.log.lastIndex + 1, s.limits))
  sendAppend(s, id)
  return 'in progress'
}

/** Leader: removes `id` from the configuration; removing itself first hands leadership over. */
export function removeServer(s: RaftState, id: string): MembershipReplyStatus {
  const servers = s.servers()
  if (!Object.hasOwn(servers, id)) return 'no such server'
  if (Object.keys(servers).length === 1) return 'rejected'
  if (id === s.id) {
    s.leaving = true
    return 'in progress'
  }
  if (changeBlocked(s) !== null) return 'busy'
  const next: Record<string, string> = {...servers}
  delete next[id]
  appendServers(s, next)
  return 'in progress'
}

/** Leader: appends the configuration for one caught-up server, if no other change is pending. */
export function promoteCaughtUp(s: RaftState): void {
  if (s.role !== 'leader' || s.catchups.size === 0 || changeBlocked(s) !== null) return
  for (const [id, catchup] of s.catchups) {
    const pr = s.progress.get(id)
    if (pr === undefined || pr.match < s.log.committed) continue
    s.catchups.delete(id)
    appendServers(s, {...s.servers(), [id]: catchup.address})
    return
  }
}

/**
 * Leader, at each check-quorum round: forgets joining servers that went silent (they will ask again), and
 * removed servers that went silent before learning they left.
 */
export function dropSilentCatchups(s: RaftState): void {
  for (const [id, pr] of s.progress) {
    if (!pr.recentActive && !s.isVoter(id) && !s.catchups.has(id)) s.progress.delete(id)
  }
  for (const [id, catchup] of s.catchups) {
    if (catchup.active) {
      catchup.active = false
      continue
    }
    s.catchups.delete(id)
    if (!Object.hasOwn(s.servers(), id)) s.progress.delete(id)
  }
}

function reply(s: RaftState, to: string, server: string, status: MembershipReplyStatus): void {
  const msg: MembershipReply = {type: 'membershipReply', from: s.id, to, term: 0, server, status, leaderHint: s.leader}
  s.send(msg)
}

/** Any server: answers a joining server's request (only the leader acts on it). */
export function handleAddServerRequest(s: RaftState, m: AddServerRequest): void {
  reply(s, m.from, m.from, s.role === 'leader' ? addServer(s, m.from, m.address) : 'not leader')
}

/** Any server: answers a removal request (cluster/leave from the server itself, cluster/kick from another). */
export function handleRemoveServerRequest(s: RaftState, m: RemoveServerRequest): void {
  reply(s, m.from, m.server, s.role === 'leader' ? removeServer(s, m.server) : 'not leader')
}

/** A joining or leaving server: a reply that names the leader tells it where to ask next. */
export function handleMembershipReply(s: RaftState, m: MembershipReply): void {
  if (m.leaderHint !== null && m.leaderHint !== s.id && !s.joinTargets.includes(m.leaderHint)) {
    if (s.joinTargets.length > 0) s.joinTargets.push(m.leaderHint)
  }
}

/**
 * Each tick: a joining server asks to be added, and a leaving one to be removed, once per election timeout
 * (requests and replies may be lost). A leaving leader first transfers leadership to its most caught-up peer.
 */
export function tickMembership(s: RaftState): void {
  // Joining ends once a committed configuration holds us; an uncommitted one may yet be truncated.
  if (s.joinTargets.length > 0 && Object.hasOwn(s.log.serversAt(s.log.committed), s.id)) s.joinTargets = []
  const joining = s.joinTargets.length > 0 && !s.isVoter(s.id)
  const leaving = s.leaving && s.isVoter(s.id)
  if (!joining && !leaving) return
  if (leaving && s.role === 'leader') {
    if (s.transferee === null) {
      const best = [...s.progress].filter(([id]) => s.isVoter(id)).sort((a, b) => b[1].match - a[1].match)[0]
      if (best !== undefined) startTransfer(s, best[0])
    }
    return
  }
  if (++s.requestElapsed < s.electionTicks) return
  s.requestElapsed = 0
  if (joining) {
    for (const to of s.joinTargets) s.send({type: 'addServerRequest', from: s.id, to, term: 0, address: s.address})
  } else if (s.leader !== null) {
    s.send({type: 'removeServerRequest', from: s.id, to: s.leader, term: 0, server: s.id})
  }
}
