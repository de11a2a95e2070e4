/**
 * Selecting and annotating flows for `ovnctl flows-dump`: flows read from the switch get their logical origin
 * from the controller by cookie (the logical flow's or port binding's UUID prefix, ovn-architecture(7)), and
 * either kind is filtered by OpenFlow table, logical datapath (metadata), logical port (reg14/reg15 within its
 * datapath, or the port's physical flows) and logical flow UUID prefix.
 */
import type {InstalledFlow} from '../openflow/bundle.js'
import type {FlowRecord, FlowsDocument} from './control-commands.js'

/** What to keep; every given criterion must hold. */
export interface FlowFilter {
  tables?: number[]
  /** A datapath name or tunnel key. */
  datapath?: string
  /** A logical port name. */
  port?: string
  /** A prefix of a logical flow UUID. */
  lflow?: string
}

/** A filter that names something the controller does not know. */
export class FilterError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'FilterError'
  }
}

/** Flows read from the switch, as records with the origin the controller knows for their cookie. */
export function annotateSwitchFlows(flows: readonly InstalledFlow[], doc: FlowsDocument): FlowRecord[] {
  return flows.map((f) => {
    const cookie = `0x${f.cookie.toString(16)}`
    const origin = doc.cookies[cookie] ?? {origin: f.cookie === 0n ? 'physical' : 'unknown', source: ''}
    return {table: f.table, priority: f.priority, cookie, match: f.matchText, actions: f.actions || 'drop', ...origin}
  })
}

/** The datapath key a flow belongs to: its metadata match, or the metadata its actions load (table 0). */
function datapathKey(r: FlowRecord): number | undefined {
  const m = /(?:^|,)metadata=(0x[0-9a-f]+|\d+)(?:,|$)/.exec(r.match) ?? /set_field:(0x[0-9a-f]+|\d+)->metadata/.exec(r.actions)
  return m ? Number(m[1]) : undefined
}

function regValue(match: string, reg: string): number | undefined {
  const m = new RegExp(`(?:^|,)${reg}=(0x[0-9a-f]+|\\d+)(?:,|$)`).exec(match)
  return m ? Number(m[1]) : undefined
}

/** Keeps the records that pass `filter`; unknown datapath or port names are a FilterError. */
export function filterFlows(records: readonly FlowRecord[], filter: FlowFilter, doc: FlowsDocument): FlowRecord[] {
  let dpKey: number | undefined
  if (filter.datapath !== undefined) {
    const dp = doc.datapaths.find((d) => d.name === filter.datapath || String(d.key) === filter.datapath || d.uuid.startsWith(filter.datapath!))
    if (!dp) throw new FilterError(`Unknown datapath "${filter.datapath}": the controller's local datapaths are ${doc.datapaths.map((d) => `"${d.name}"`).join(', ') || 'none'}`)
    dpKey = dp.key
  }
  const port = filter.port === undefined ? undefined : doc.ports.find((p) => p.name === filter.port)
  if (filter.port !== undefined && !port) throw new FilterError(`Unknown logical port "${filter.port}" on this chassis's datapaths`)
  return records.filter((r) => {
    if (filter.tables && filter.tables.length > 0 && !filter.tables.includes(r.table)) return false
    if (dpKey !== undefined && datapathKey(r) !== dpKey) return false
    if (filter.lflow !== undefined && !(r.origin === 'lflow' && r.source.startsWith(filter.lflow))) return false
    if (port) {
      const own = r.source === `port:${port.name}` || r.source === `egress-on-ingress:${port.name}`
      const inDp = datapathKey(r) === port.datapath && (regValue(r.match, 'reg14') === port.key || regValue(r.match, 'reg15') === port.key)
      if (!own && !inDp) return false
    }
    return true
  })
}

/** A record as a line of `ovs-ofctl dump-flows --no-stats` output. */
export function ofctlLine(r: FlowRecord): string {
  const head = [r.cookie !== '0x0' ? `cookie=${r.cookie}` : '', r.table !== 0 ? `table=${r.table}` : ''].filter((s) => s).join(', ')
  return ` ${head ? head + ', ' : ''}priority=${r.priority}${r.match ? ',' + r.match : ''} actions=${r.actions}`
}
