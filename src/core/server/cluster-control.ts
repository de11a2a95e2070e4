/**
 * The cluster/* control commands of ovsdb-server(1) "Cluster Commands" on db-serve's control socket, answered
 * in OVS's text so that `ovs-appctl -t SOCKET cluster/status DB` scripts keep working, plus
 * `cluster/status-json DB` (ovnctl's own) that `ovnctl cluster-status` reads.
 */
import {abbreviateId} from '../raft/index.js'
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
  if (matches.length !== 1) throw new ControlError(`${text}: ${matches.length === 0 ? 'no such server' : 'ambiguous server'}`)
  return matches[0][0]
}

/** Registers the cluster/* commands for the clustered databases in `clusters` (by database name). */
export function registerClusterCommands(control: ControlServer, clusters: ReadonlyMap<string, ClusteredDb>): void {
  const find = (name: string): ClusteredDb => {
    const c = clusters.get(name)
    if (c === undefined) throw new ControlError('unknown cluster')
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
      await asControl(find(db).driver.leave())
      return ''
    },
  })
  control.register('cluster/kick', {
    usage: 'DB SERVER',
    argsMin: 2,
    argsMax: 2,
    run: async ([db, server]) => {
      const c = find(db)
      const id = resolveServer(c.driver.status(), server)
      await asControl(id === c.driver.id ? c.driver.leave() : c.driver.confChange({type: 'removeServer', id}))
      return 'started removal\n'
    },
  })
  control.register('cluster/change-election-timer', {
    usage: 'DB TIME',
    argsMin: 2,
    argsMax: 2,
    run: async ([db, time]) => {
      const c = find(db)
      if (!c.driver.isLeader) throw new ControlError('election timer must be changed through leader.')
      const ms = Number(time)
      if (!/^\d+$/.test(time)) throw new ControlError(`failed to parse election timer "${time}"`)
      await asControl(c.driver.changeElectionTimer(ms))
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
