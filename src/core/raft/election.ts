/**
 * Leader election (Raft §5.2) with pre-vote (thesis §9.6), the leader lease that makes voters ignore
 * campaigns while they hear from a leader (thesis §4.2.3, needed with check-quorum), and leadership transfer
 * (thesis §3.10).
 */
import {Progress} from './progress.js'
import {broadcastAppend, maybeCommit, sendAppend} from './replication.js'
import type {RaftState} from './state.js'
import type {VoteReply, VoteRequest} from './types.js'

/** How a campaign starts: a pre-vote round first, or a real election (after a pre-vote or a TimeoutNow). */
export type CampaignKind = 'preVote' | 'vote' | 'transfer'

/** Starts a campaign. Only voters campaign: a joining, learning or removed server never does. */
export function campaign(s: RaftState, kind: CampaignKind): void {
  if (!s.promotable() || s.role === 'leader') return
  if (kind === 'preVote') s.becomePreCandidate()
  else s.becomeCandidate()
  const preVote = kind === 'preVote'
  const term = preVote ? s.term + 1 : s.term
  if (tally(s, s.id, true)) return
  for (const to of s.otherVoters()) {
    s.send({
      type: 'voteRequest',
      from: s.id,
      to,
      term,
      preVote,
      lastIndex: s.log.lastIndex,
      lastTerm: s.log.lastTerm,
      transfer: kind === 'transfer',
    })
  }
}

/**
 * Whether a voter still trusts its leader: it heard from it within the election timeout. Such a voter
 * ignores campaigns (unless they follow a leadership transfer), which keeps a partitioned or removed server
 * from deposing a healthy leader.
 */
export function inLease(s: RaftState): boolean {
  return s.leader !== null && s.electionElapsed < s.electionTicks
}

/** Answers a vote or pre-vote request whose term is at least ours (the caller settled the term). */
export function handleVoteRequest(s: RaftState, m: VoteRequest): void {
  const canVote =
    s.vote === m.from ||
    (s.vote === null && s.leader === null) ||
    (m.preVote && m.term > s.term)
  const granted = canVote && s.log.isUpToDate(m.lastIndex, m.lastTerm)
  const reply: VoteReply = {
    type: 'voteReply',
    from: s.id,
    to: m.from,
    term: granted ? m.term : s.term,
    preVote: m.preVote,
    granted,
  }
  s.send(reply)
  if (granted && !m.preVote) {
    s.electionElapsed = 0
    s.vote = m.from
  }
}

/** Counts a vote reply received while campaigning. */
export function handleVoteReply(s: RaftState, m: VoteReply): void {
  const expectPreVote = s.role === 'preCandidate'
  if (m.preVote !== expectPreVote || !s.isVoter(m.from)) return
  tally(s, m.from, m.granted)
}

/** Records one answer; wins or loses once a quorum agrees. Returns whether the campaign ended. */
function tally(s: RaftState, from: string, granted: boolean): boolean {
  s.votes.set(from, granted)
  let yes = 0
  let no = 0
  for (const v of s.votes.values()) v ? yes++ : no++
  const quorum = s.quorum()
  if (yes >= quorum) {
    if (s.role === 'preCandidate') campaign(s, 'vote')
    else becomeLeader(s)
    return true
  }
  if (no >= quorum) {
    s.becomeFollower(s.term, null)
    return true
  }
  return false
}

/** Takes office: fresh progress for every peer, and an empty entry to commit the log of earlier terms (§6.4). */
export function becomeLeader(s: RaftState): void {
  const term = s.term
  s.reset(term)
  s.role = 'leader'
  s.leader = s.id
  for (const id of s.otherVoters()) {
    const pr = new Progress(s.log.lastIndex + 1, s.limits)
    pr.recentActive = true
    s.progress.set(id, pr)
  }
  s.termStartIndex = s.log.lastIndex + 1
  s.log.append([{kind: 'noop', term, index: s.termStartIndex}])
  maybeCommit(s)
  broadcastAppend(s)
}

/** Leader: hands leadership to `to` once its log is complete (thesis §3.10). */
export function startTransfer(s: RaftState, to: string): void {
  s.transferee = to
  s.transferElapsed = 0
  const pr = s.progress.get(to)
  if (pr === undefined) return
  if (pr.match === s.log.lastIndex) s.send({type: 'timeoutNow', from: s.id, to, term: s.term})
  else sendAppend(s, to)
}
