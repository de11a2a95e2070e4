/**
 * What happens when the commit index moves: committed election timer entries take effect (OVS applies a new
 * election_timer at commit), and a committed configuration lets the leader forget removed servers, or step
 * down if it removed itself (Raft thesis §4.2.2).
 */
import type {RaftState} from './state.js'

/** Raises the commit index to `index` and applies its effects. Returns whether it moved. */
export function advanceCommit(s: RaftState, index: number): boolean {
  const old = s.log.committed
  if (!s.log.commitTo(index)) return false
  for (let i = Math.max(old + 1, s.log.firstIndex); i <= index; i++) {
    const e = s.log.entry(i)
    if (e.kind === 'electionTimer') s.setElectionTimer(e.electionTimerMs)
  }
  const latest = s.log.latestServers().index
  if (latest > old && latest <= index) configurationCommitted(s)
  return true
}

function configurationCommitted(s: RaftState): void {
  if (s.role !== 'leader') return
  for (const id of [...s.progress.keys()]) releaseRemoved(s, id)
  if (!Object.hasOwn(s.servers(), s.id)) s.becomeFollower(s.term, null)
}

/**
 * Leader: a server outside the committed configuration is still replicated to until it holds that
 * configuration; then it is told the commit index once and forgotten, so it learns that it left (§4.2.2).
 */
export function releaseRemoved(s: RaftState, id: string): void {
  const pr = s.progress.get(id)
  if (pr === undefined || s.isVoter(id) || s.catchups.has(id)) return
  const config = s.log.latestServers().index
  if (config > s.log.committed || pr.match < config) return
  s.send({type: 'heartbeat', from: s.id, to: id, term: s.term, commit: Math.min(pr.match, s.log.committed)})
  s.progress.delete(id)
}
