/**
 * Turning the difference between a switch's tables and the desired ones into one `ovs-ofctl bundle` file
 * (ovs-ofctl(8) "OpenFlow Switch Bundle Command"): every flow and group mod in it is applied as a single
 * atomic transaction, so a packet sees either the old tables or the new ones. Flows are compared by their
 * identity in OpenFlow (table, priority, match: OpenFlow 1.5 §6.4) in the text the switch prints, and replaced
 * (delete, then add) when their actions or cookie differ, since a modify keeps the old cookie.
 */
import {formatMatch} from './match.js'
import type {Flow} from './flow.js'

/** A flow as the switch reported it: its identity and the rest as text. */
export interface InstalledFlow {
  table: number
  priority: number
  cookie: bigint
  matchText: string
  actions: string
}

/** Fields of `ovs-ofctl dump-flows` that are statistics or timeouts, not part of a flow's identity. */
const statFields = new Set(['duration', 'n_packets', 'n_bytes', 'idle_age', 'hard_age', 'reset_counts', 'idle_timeout', 'hard_timeout', 'importance', 'send_flow_rem', 'check_overlap', 'no_packet_counts', 'no_byte_counts'])

/** Parses one line of `ovs-ofctl dump-flows` into an InstalledFlow (the match is kept as the switch wrote it). */
export function parseInstalledFlow(line: string): InstalledFlow {
  const at = line.indexOf(' actions=')
  const head = at >= 0 ? line.slice(0, at) : ''
  if (at < 0) throw new Error(`Cannot parse flow ${JSON.stringify(line)}: no "actions="`)
  let table = 0
  let priority = 32768
  let cookie = 0n
  const match: string[] = []
  for (const raw of head.split(',')) {
    const part = raw.trim()
    if (part === '') continue
    const eq = part.indexOf('=')
    const key = eq < 0 ? part : part.slice(0, eq)
    const value = eq < 0 ? '' : part.slice(eq + 1)
    if (key === 'cookie') cookie = BigInt(value.split('/')[0])
    else if (key === 'table') table = Number(value)
    else if (key === 'priority') priority = Number(value)
    else if (!statFields.has(key)) match.push(part)
  }
  const actions = line.slice(at + ' actions='.length).trim()
  return {table, priority, cookie, matchText: match.join(','), actions: actions === 'drop' ? '' : actions}
}

/** Parses `ovs-ofctl dump-flows` output, skipping its header lines. */
export function parseInstalledFlows(text: string): InstalledFlow[] {
  return text
    .split('\n')
    .filter((l) => l.includes(' actions='))
    .map(parseInstalledFlow)
}

/** The identity of a flow in its table. */
export function installedKey(f: {table: number; priority: number; matchText: string}): string {
  return `${f.table}/${f.priority}/${f.matchText}`
}

/**
 * A desired flow in the installed form: its match and actions as the switch prints them back. `dec_ttl()` (no
 * controller ids, as ovn-controller encodes it) is read by ovs-ofctl as the plain `dec_ttl`, and printed so.
 */
export function asInstalled(f: Flow & {matchText?: string}): InstalledFlow {
  const actions = f.actions.includes('dec_ttl()') ? f.actions.replaceAll('dec_ttl()', 'dec_ttl') : f.actions
  return {table: f.table, priority: f.priority, cookie: f.cookie, matchText: f.matchText ?? formatMatch(f.match), actions}
}

/** Counts of what a bundle changes. */
export interface BundleStats {
  flowsAdded: number
  flowsDeleted: number
  flowsReplaced: number
  groupsAdded: number
  groupsDeleted: number
  groupsReplaced: number
}

/** A table as the diff takes it: flows by identity (`installedKey`), groups by id. */
export interface FlowTable {
  flows: ReadonlyMap<string, InstalledFlow>
  groups: ReadonlyMap<number, string>
}

/** Flows by identity; of two with one identity the last wins, as in the switch. */
export function keyed(flows: Iterable<InstalledFlow>): Map<string, InstalledFlow> {
  const out = new Map<string, InstalledFlow>()
  for (const f of flows) out.set(installedKey(f), f)
  return out
}

/** The bundle that turns `installed` into `desired`: its lines (empty when nothing differs) and counts. */
export function bundleFor(installed: FlowTable, desired: FlowTable): {lines: string[]; stats: BundleStats} {
  const keys = new Set([...installed.flows.keys(), ...desired.flows.keys()])
  return bundleForChanges(installed, {flows: (key) => desired.flows.get(key), groups: desired.groups}, keys)
}

/** The desired side of a diff looked up by identity (undefined: no flow of that identity), and all groups. */
export interface DesiredLookup {
  flows(key: string): InstalledFlow | undefined
  groups: ReadonlyMap<number, string>
}

/**
 * The bundle that turns `installed` into `desired` where they may differ: at the flow identities `keys` (every
 * other identity is known to be the same on both sides) and in the groups.
 */
export function bundleForChanges(installed: FlowTable, desired: DesiredLookup, keys: Iterable<string>): {lines: string[]; stats: BundleStats} {
  const stats: BundleStats = {flowsAdded: 0, flowsDeleted: 0, flowsReplaced: 0, groupsAdded: 0, groupsDeleted: 0, groupsReplaced: 0}
  const lines: string[] = []
  // Groups first, so that flows added below may refer to them; removed groups last, once no flow uses them.
  for (const [id, text] of desired.groups) {
    const old = installed.groups.get(id)
    if (old === text) continue
    lines.push(`group ${old === undefined ? 'add' : 'modify'} ${text}`)
    if (old === undefined) stats.groupsAdded++
    else stats.groupsReplaced++
  }
  // Every delete before any add: a delete_strict after the add of a flow with the same identity would remove it.
  const adds: string[] = []
  for (const key of keys) {
    const h = installed.flows.get(key)
    const w = desired.flows(key)
    if (h && w && w.actions === h.actions && w.cookie === h.cookie) continue
    if (h) {
      lines.push(`flow delete_strict ${flowSpec(h, false)}`)
      if (w) stats.flowsReplaced++
      else stats.flowsDeleted++
    }
    if (w) {
      adds.push(`flow add ${flowSpec(w, true)},actions=${w.actions || 'drop'}`)
      if (!h) stats.flowsAdded++
    }
  }
  for (const a of adds) lines.push(a)
  for (const id of installed.groups.keys()) {
    if (desired.groups.has(id)) continue
    lines.push(`group delete group_id=${id}`)
    stats.groupsDeleted++
  }
  return {lines, stats}
}

/** A delete names no cookie: OpenFlow matches a delete's cookie only under a mask, and the identity suffices. */
function flowSpec(f: InstalledFlow, withCookie: boolean): string {
  const cookie = withCookie && f.cookie !== 0n ? `,cookie=0x${f.cookie.toString(16)}` : ''
  return `table=${f.table},priority=${f.priority}${cookie}${f.matchText ? ',' + f.matchText : ''}`
}
