/**
 * Neighbour flows (ovn-controller 23.03, tables 66 and 67), learned from the flows the real controller installs:
 * every MAC_Binding row (learned by any chassis through put_arp/put_nd) and Static_MAC_Binding row (written by
 * ovn-northd from the NB's static bindings) of a local datapath becomes
 * - table 66 (OFTABLE_MAC_BINDING, get_arp/get_nd): `metadata=DP,reg15=OUTPORT,reg0=IPv4` (or xxreg0=IPv6) →
 *   `eth.dst = MAC; flags.lookup_mac = 1` (MLF_LOOKUP_MAC_BIT is reg10 bit 6);
 * - table 67 (OFTABLE_MAC_LOOKUP, lookup_arp/lookup_nd): `metadata=DP,reg14=INPORT,reg0=IP,dl_src=MAC` with the
 *   `arp` prerequisite (IPv4) or `icmp6,icmp_code=0` (IPv6, the nd prerequisite) → `flags.lookup_mac = 1`.
 * Priorities: 100 for a learned binding; a static one 50, or 150 with override_dynamic_mac (ovn-nb(5)
 * Static_MAC_Binding). Cookie: the row's UUID prefix, as for every flow derived from a row.
 */
import type {JsonRow} from '../idl/monitor.js'
import {formatMatch, withField, type Match} from '../openflow/match.js'
import {parseIpv4, parseIpv6} from '../pipeline/lexer.js'
import {defaultTables} from '../pipeline/actions-encode.js'
import type {DesiredFlow} from './lflow.js'
import {cookieOf, optionalOf, type Datapath, type PortBinding} from './sb-model.js'

/** Priority of the flows of a MAC_Binding row (learned). */
export const learnedPriority = 100
/** Priority of the flows of a Static_MAC_Binding row without override_dynamic_mac: a learned binding wins. */
export const staticPriority = 50
/** Priority of a Static_MAC_Binding row with override_dynamic_mac: it wins over a learned binding. */
export const staticOverridePriority = 150

/** A MAC_Binding or Static_MAC_Binding row (ovn-sb(5)). */
export interface MacBinding {
  uuid: string
  table: 'MAC_Binding' | 'Static_MAC_Binding'
  logicalPort: string
  ip: string
  mac: string
  datapath?: string
  priority: number
}

/** Reads a MAC_Binding row. */
export function readMacBinding(uuid: string, r: JsonRow): MacBinding {
  return {uuid, table: 'MAC_Binding', logicalPort: String(r.logical_port ?? ''), ip: String(r.ip ?? ''), mac: String(r.mac ?? ''), datapath: optionalOf(r.datapath), priority: learnedPriority}
}

/** Reads a Static_MAC_Binding row. */
export function readStaticMacBinding(uuid: string, r: JsonRow): MacBinding {
  const override = optionalOf<boolean>(r.override_dynamic_mac) === true
  return {
    uuid,
    table: 'Static_MAC_Binding',
    logicalPort: String(r.logical_port ?? ''),
    ip: String(r.ip ?? ''),
    mac: String(r.mac ?? ''),
    datapath: optionalOf(r.datapath),
    priority: override ? staticOverridePriority : staticPriority,
  }
}

/** What the neighbour flows need of the Southbound. */
export interface MacBindingInput {
  bindings: Iterable<MacBinding>
  portByName: ReadonlyMap<string, PortBinding>
  datapaths: ReadonlyMap<string, Datapath>
  local: ReadonlySet<string>
}

/** The neighbour flows and the rows that could not make any, each message naming its row. */
export interface MacBindingFlows {
  flows: DesiredFlow[]
  errors: string[]
}

const macPattern = /^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}$/

/** A MAC address in the switch's form (two lowercase hex digits per byte), or undefined. */
function normalMac(text: string): string | undefined {
  if (!macPattern.test(text)) return undefined
  return text
    .split(':')
    .map((b) => b.toLowerCase().padStart(2, '0'))
    .join(':')
}

/** IPv4 or IPv6 address of a binding, or undefined (the real controller's "bad 'ip'"). */
function address(text: string): {v6: boolean; value: bigint} | undefined {
  const v4 = parseIpv4(text)
  if (v4 !== undefined) return {v6: false, value: v4}
  const v6 = text.includes(':') ? parseIpv6(text) : undefined
  return v6 === undefined ? undefined : {v6: true, value: v6}
}

/** A match built field by field: no text to parse for each of thousands of bindings. */
function matchOf(fields: ReadonlyArray<readonly [string, bigint]>): Match {
  let m: Match = new Map()
  for (const [field, value] of fields) m = withField(m, field, value)
  return m
}

function neighbourFlow(b: MacBinding, table: number, fields: ReadonlyArray<readonly [string, bigint]>, actions: string): DesiredFlow {
  const m = matchOf(fields)
  return {table, priority: b.priority, cookie: cookieOf(b.uuid), match: m, matchText: formatMatch(m), actions, origin: `physical:mac-binding:${b.uuid}`}
}

/** The two flows of one binding, or why it has none (undefined: not for this chassis). */
function flowsOf(b: MacBinding, input: MacBindingInput): DesiredFlow[] | string | undefined {
  const what = `${b.table} ${b.uuid.slice(0, 8)} (logical_port "${b.logicalPort}", ip "${b.ip}", mac "${b.mac}")`
  if (b.datapath !== undefined && !input.local.has(b.datapath)) return undefined
  const port = input.portByName.get(b.logicalPort)
  if (!port) return `${what} not installed: unknown logical port "${b.logicalPort}"`
  if (!input.local.has(port.datapath)) return undefined
  const dp = input.datapaths.get(port.datapath)
  if (!dp) return undefined
  const ip = address(b.ip)
  if (!ip) return `${what} not installed: bad ip "${b.ip}"`
  const mac = normalMac(b.mac)
  if (!mac) return `${what} not installed: bad mac "${b.mac}"`
  const lookupMac = 'set_field:0x40/0x40->reg10'
  const where = [['metadata', BigInt(dp.key)], [ip.v6 ? 'xxreg0' : 'reg0', ip.value]] as const
  // The lookup flow carries the prerequisites of lookup_arp (arp) or lookup_nd (nd: icmp6 code 0).
  const prereq = ip.v6 ? ([['dl_type', 0x86ddn], ['nw_proto', 58n], ['icmp_code', 0n]] as const) : ([['dl_type', 0x806n]] as const)
  return [
    neighbourFlow(b, defaultTables.macBinding, [...where, ['reg15', BigInt(port.key)]], `set_field:${mac}->eth_dst,${lookupMac}`),
    neighbourFlow(b, defaultTables.macLookup, [...prereq, ...where, ['reg14', BigInt(port.key)], ['dl_src', BigInt('0x' + mac.replaceAll(':', ''))]], lookupMac),
  ]
}

/** The table 66 and 67 flows of the bindings on local datapaths; a bad row is an error naming it, the rest are made. */
export function macBindingFlows(input: MacBindingInput): MacBindingFlows {
  const out: MacBindingFlows = {flows: [], errors: []}
  for (const b of input.bindings) {
    const r = flowsOf(b, input)
    if (typeof r === 'string') out.errors.push(r)
    else if (r) out.flows.push(...r)
  }
  return out
}

interface Made {
  binding: MacBinding
  port?: PortBinding
  datapath?: Datapath
  /** Whether the row's and the port's datapaths were local when it was made. */
  local: string
  result: DesiredFlow[] | string | undefined
}

/**
 * The neighbour flows kept per row and made again only when the row, its port, its port's datapath or their
 * locality changed (SbIndex replaces the object of a changed row, so identity says "unchanged"): a Southbound with
 * thousands of learned bindings costs a lookup per row per run, not a parse, and the kept flows are the same
 * objects, which the desired table recognises at once.
 */
export class MacBindingFlowCache {
  private made = new Map<string, Made>()

  /** As macBindingFlows, reusing what each unchanged row made last time; forgets rows that are gone. */
  flows(input: MacBindingInput): MacBindingFlows {
    const out: MacBindingFlows = {flows: [], errors: []}
    const next = new Map<string, Made>()
    for (const b of input.bindings) {
      const port = input.portByName.get(b.logicalPort)
      const datapath = port && input.datapaths.get(port.datapath)
      const local = `${b.datapath === undefined || input.local.has(b.datapath)}/${port !== undefined && input.local.has(port.datapath)}`
      let m = this.made.get(b.uuid)
      if (!m || m.binding !== b || m.port !== port || m.datapath !== datapath || m.local !== local) m = {binding: b, port, datapath, local, result: flowsOf(b, input)}
      next.set(b.uuid, m)
      if (typeof m.result === 'string') out.errors.push(m.result)
      else if (m.result) out.flows.push(...m.result)
    }
    this.made = next
    return out
  }
}
