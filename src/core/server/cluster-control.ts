/**
 * The cluster/* control commands of ovsdb-server(1) "Cluster Commands" on db-serve's control socket, answered
 * in OVS's text so that `ovs-appctl -t SOCKET cluster/status DB` scripts keep working, plus
 * `cluster/status-json DB` (ovnctl's own) that `ovnctl cluster-status` reads.
 */
import {abbreviateId, ChangeInProgressError, electionTimerMsMax, electionTimerMsMin} from '../raft/index.js'
import type {DriverStatus} from '../raft/driver.js'
import type {ClusteredDb} from './clustered.js'
import {ControlError, type ControlServer} from './control.js'

/** cluster/status as data: what `ovnctl cluster-status --json` prints. */
export interface ClusterStatusJson {
  name: string
  clusterId: string | null
  serverId: string
  address: string
  status: string
  role: string
  term: number
  leader: string | null
  vote: string | null
  electionTimerMs: number
  log: {start: number; end: number}
  notCommitted: number
  notApplied: number
  connections: string[]
  disconnections: number
  servers: {
    id: string
    address: string
    self: boolean
    nextIndex: number | null
    matchIndex: number | null
    lastMsgMsAgo: number | null
  }[]
}

/** The status of a clustered database as data. */
export function clusterStatusJson(st: DriverStatus, nowMs: number): ClusterStatusJson {
  const peers = new Map(st.peers.map((p) => [p.id, p]))
  const ids = new Set([...Object.keys(st.servers), ...peers.keys()])
  const servers = [...ids].sort().map((id) => {
    const p = peers.get(id)
    const self = id === st.id
    const heard = st.lastHeardMs.get(id)
    return {
      id,
      address: st.servers[id] ?? p?.address ?? '',
      self,
      nextIndex: self && st.role === 'leader' ? st.logEnd : (p?.nextIndex ?? null),
      matchIndex: self && st.role === 'leader' ? st.logEnd - 1 : (p?.matchIndex ?? null),
      lastMsgMsAgo: self || heard === undefined ? null : nowMs - heard,
    }
  })
  return {
    name: st.name,
    clusterId: st.clusterId,
    serverId: st.id,
    address: st.address,
    status: st.membership,
    role: st.role === 'preCandidate' ? 'candidate' : st.role,
    term: st.term,
    leader: st.leader,
    vote: st.vote,
    electionTimerMs: st.electionTimerMs,
    log: {start: st.logStart, end: st.logEnd},
    notCommitted: st.logEnd - 1 - st.commitIndex,
    notApplied: st.commitIndex - st.appliedIndex,
    connections: [...st.connections],
    disconnections: st.disconnections,
    servers,
  }
}

function who(id: string | null, self: string): string {
  if (id === null) return 'unknown'
  return id === self ? 'self' : abbreviateId(id)
}

/** cluster/status in the text of ovsdb-server 3.1 (first line: the abbreviated server id). */
export function formatClusterStatus(st: DriverStatus, nowMs: number): string {
  const j = clusterStatusJson(st, nowMs)
  const lines = [
    abbreviateId(j.serverId),
    `Name: ${j.name}`,
    j.clusterId === null ? 'Cluster ID: not yet known' : `Cluster ID: ${abbreviateId(j.clusterId)} (${j.clusterId})`,
    `Server ID: ${abbreviateId(j.serverId)} (${j.serverId})`,
    `Address: ${j.address}`,
    `Status: ${j.status}`,
    `Role: ${j.role}`,
    `Term: ${j.term}`,
    `Leader: ${who(j.leader, j.serverId)}`,
    `Vote: ${who(j.vote, j.serverId)}`,
    '',
  ]
  if (st.election.startedMs !== null) lines.push(`Last Election started ${nowMs - st.election.startedMs} ms ago, reason: ${st.election.reason}`)
  if (st.election.wonMs !== null) lines.push(`Last Election won: ${nowMs - st.election.wonMs} ms ago`)
  lines.push(
    `Election timer: ${j.electionTimerMs}`,
    `Log: [${j.log.start}, ${j.log.end}]`,
    `Entries not yet committed: ${j.notCommitted}`,
    `Entries not yet applied: ${j.notApplied}`,
    `Connections: ${j.connections.join(' ')}`,
    `Disconnections: ${j.disconnections}`,
    'Servers:',
  )
  for (const s of j.servers) {
    let line = `    ${abbreviateId(s.id)} (${abbreviateId(s.id)} at ${s.address})${s.self ? ' (self)' : ''}`
    if (s.nextIndex !== null) line += ` next_index=${s.nextIndex} match_index=${s.matchIndex}`
    if (s.lastMsgMsAgo !== null) line += ` last msg ${s.lastMsgMsAgo} ms ago`
    lines.push(line)
  }
  return lines.join('\n') + '\n'
}

/** Finds a server of the configuration by full id, abbreviated id or address (cluster/kick SERVER). */
export function resolveServer(st: DriverStatus, text: string): string {
  const matches = Object.entries(st.servers).filter(([id, address]) => id === text || address === text || (text.length >= 4 && id.startsWith(text)))
  // ovsdb-server(1) cluster/kick answers "unknown server" for no match; an ambiguous prefix names no one server either.
  if (matches.length !== 1) throw new ControlError(matches.length === 0 ? 'unknown server' : `unknown server: "${text}" matches ${matches.length} servers`)
  return matches[0][0]
}

/**
 * Checks a cluster/change-election-timer request the way ovsdb-server 3.1 does, in its words: on the leader
 * only, 100 to 600000 ms, at most double the current value (so that followers still on the old value do not
 * time out). Returns the new value, or null when it is the current one (nothing to do).
 */
export function checkElectionTimerChange(st: DriverStatus, text: string): number | null {
  if (st.role !== 'leader') throw new ControlError('election timer must be changed through leader.')
  const ms = /^\d+$/.test(text) ? Number(text) : 0
  if (ms < electionTimerMsMin || ms > electionTimerMsMax) {
    throw new ControlError(`election timer must be between ${electionTimerMsMin} and ${electionTimerMsMax}, in msec.`)
  }
  if (ms > 2 * st.electionTimerMs) throw new ControlError('election timer increase should not exceed the current value x 2.')
  return ms === st.electionTimerMs ? null : ms
}

/** Registers the cluster/* commands for the clustered databases in `clusters` (by database name). */
export function registerClusterCommands(control: ControlServer, clusters: ReadonlyMap<string, ClusteredDb>): void {
  const find = (name: string): ClusteredDb => {
    const c = clusters.get(name)
    if (c === undefined) throw new ControlError('unknown cluster')
    return c
  }
  // A server that left no longer has the cluster (ovsdb-server removes the database): requests that change
  // it answer as OVS does; the status commands still show "left cluster".
  const member = (name: string): ClusteredDb => {
    const c = find(name)
    if (c.left) throw new ControlError('unknown cluster')
    return c
  }
  control.register('cluster/status', {usage: 'DB', argsMin: 1, argsMax: 1, run: ([db]) => formatClusterStatus(find(db).driver.status(), Date.now())})
  control.register('cluster/status-json', {
    usage: 'DB',
    argsMin: 1,
    argsMax: 1,
    run: ([db]) => JSON.stringify(clusterStatusJson(find(db).driver.status(), Date.now())),
  })
  control.register('cluster/sid', {usage: 'DB', argsMin: 1, argsMax: 1, run: ([db]) => `${find(db).driver.id}\n`})
  control.register('cluster/cid', {
    usage: 'DB',
    argsMin: 1,
    argsMax: 1,
    run: ([db]) => {
      const cid = find(db).driver.status().clusterId
      if (cid === null) throw new ControlError(`${db}: cluster ID not yet known`)
      return `${cid}\n`
    },
  })
  control.register('cluster/leave', {
    usage: 'DB',
    argsMin: 1,
    argsMax: 1,
    run: async ([db]) => {
      const c = member(db)
      // A second leave while the first is under way changes nothing, as in OVS.
      if (c.driver.status().membership !== 'leaving cluster') await asControl(c.driver.leave())
      return ''
    },
  })
  control.register('cluster/kick', {
    usage: 'DB SERVER',
    argsMin: 2,
    argsMax: 2,
    run: async ([db, server]) => {
      const c = member(db)
      const id = resolveServer(c.driver.status(), server)
      const leader = c.driver.isLeader
      await asControl(id === c.driver.id ? c.driver.leave() : c.driver.confChange({type: 'removeServer', id}))
      return leader ? 'started removal\n' : 'sent removal request to leader\n'
    },
  })
  control.register('cluster/change-election-timer', {
    usage: 'DB TIME',
    argsMin: 2,
    argsMax: 2,
    run: async ([db, time]) => {
      const c = member(db)
      const ms = checkElectionTimerChange(c.driver.status(), time)
      if (ms === null) return 'change election timer to current value.\n'
      try {
        await c.driver.changeElectionTimer(ms)
      } catch (err) {
        throw new ControlError(err instanceof ChangeInProgressError ? 'election timer change pending.' : (err as Error).message)
      }
      return 'change of election timer initiated.\n'
    },
  })
}

async function asControl<T>(p: Promise<T>): Promise<T> {
  try {
    return await p
  } catch (err) {
    throw new ControlError((err as Error).message)
  }
}

/** Runs one control command on a daemon's control socket (what `ovs-appctl -t SOCKET` does). */
export async function controlRequest(target: string, command: string, args: string[], timeoutMs: number): Promise<string> {
  const {connect} = await import('../jsonrpc/index.js')
  const conn = await connect(`unix:${target}`, {timeoutMs})
  try {
    return String(await conn.request(command, args, {timeoutMs}))
  } finally {
    conn.close()
  }
}
