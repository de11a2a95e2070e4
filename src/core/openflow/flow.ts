/**
 * OpenFlow flows as values and their text form as `ovs-ofctl dump-flows --no-stats` prints it: cookie (omitted
 * when 0), table (omitted when 0), priority (omitted at the default 32768), match, then `actions=`. Parsing the
 * same text back lets a controller diff the switch's table against the desired one.
 */
import {formatMatch, matchKey, parseMatchText, type Match} from './match.js'

/** One flow. `actions` is the action list in ovs-ofctl syntax (already canonical when produced by the compiler). */
export interface Flow {
  table: number
  priority: number
  cookie: bigint
  match: Match
  actions: string
}

/** OpenFlow's default priority, which ovs-ofctl leaves out (OpenFlow 1.5 §7.3.4.2 OFP_DEFAULT_PRIORITY). */
export const defaultPriority = 32768

/** Text of one flow in `ovs-ofctl dump-flows --no-stats` form. */
export function formatFlow(f: Flow): string {
  const head: string[] = []
  if (f.cookie !== 0n) head.push(`cookie=0x${f.cookie.toString(16)}`)
  if (f.table !== 0) head.push(`table=${f.table}`)
  const body = [f.priority !== defaultPriority ? `priority=${f.priority}` : '', formatMatch(f.match)].filter((s) => s !== '').join(',')
  const prefix = head.length > 0 ? head.join(', ') + ', ' : ''
  return `${prefix}${body}${body ? ' ' : ''}actions=${f.actions || 'drop'}`
}

/** Text accepted by `ovs-ofctl add-flow` / `parse-flow` for the same flow (explicit table and priority). */
export function formatFlowForAdd(f: Flow): string {
  const match = formatMatch(f.match)
  return `table=${f.table},priority=${f.priority}${f.cookie !== 0n ? `,cookie=0x${f.cookie.toString(16)}` : ''}${match ? ',' + match : ''},actions=${f.actions || 'drop'}`
}

/** Parses one line of `ovs-ofctl dump-flows` output (statistics, if present, are ignored). */
export function parseFlow(line: string): Flow {
  const actionsAt = line.indexOf('actions=')
  if (actionsAt < 0) throw new Error(`Cannot parse flow ${JSON.stringify(line)}: no "actions="`)
  const actions = line.slice(actionsAt + 'actions='.length).trim()
  let table = 0
  let priority = defaultPriority
  let cookie = 0n
  const matchParts: string[] = []
  for (const raw of line.slice(0, actionsAt).split(',')) {
    const part = raw.trim()
    if (part === '') continue
    const [key, value] = part.split('=', 2)
    if (key === 'cookie') cookie = BigInt(value.split('/')[0])
    else if (key === 'table') table = Number(value)
    else if (key === 'priority') priority = Number(value)
    else if (['duration', 'n_packets', 'n_bytes', 'idle_age', 'hard_age', 'reset_counts', 'idle_timeout', 'hard_timeout'].includes(key)) continue
    else matchParts.push(part)
  }
  return {table, priority, cookie, match: parseMatchText(matchParts.join(',')), actions: actions === 'drop' ? '' : actions}
}

/** Parses the lines of `ovs-ofctl dump-flows` output, skipping headers such as `NXST_FLOW reply`. */
export function parseFlows(text: string): Flow[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.includes('actions='))
    .map(parseFlow)
}

/** Identity of a flow in a table: OpenFlow allows one flow per (table, priority, match). */
export function flowKey(f: Flow): string {
  return `${f.table}/${f.priority}/${matchKey(f.match)}`
}

/** What to change so that `installed` becomes `desired`. */
export interface FlowDiff {
  adds: Flow[]
  deletes: Flow[]
  /** Same key, different actions or cookie: replace `from` by `to`. */
  modifies: Array<{from: Flow; to: Flow}>
}

/** Compares two flow tables by key; results are in the order of the input tables. */
export function diffFlows(installed: readonly Flow[], desired: readonly Flow[]): FlowDiff {
  const have = new Map(installed.map((f) => [flowKey(f), f]))
  const want = new Map(desired.map((f) => [flowKey(f), f]))
  const diff: FlowDiff = {adds: [], deletes: [], modifies: []}
  for (const [key, f] of want) {
    const old = have.get(key)
    if (!old) diff.adds.push(f)
    else if (old.actions !== f.actions || old.cookie !== f.cookie) diff.modifies.push({from: old, to: f})
  }
  for (const [key, f] of have) if (!want.has(key)) diff.deletes.push(f)
  return diff
}
