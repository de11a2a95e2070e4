/**
 * The physical half of the pipeline (ovn-architecture(7) "Architectural Physical Life Cycle of a Packet",
 * ovn-controller 23.03 physical.c), as flows around the logical tables:
 *
 * - table 0: a packet from a local VIF gets its logical datapath (metadata), ingress port (reg14) and
 *   conntrack zones (reg13 port zone, reg11 DNAT, reg12 SNAT); a packet from a tunnel gets them from the
 *   tunnel key and goes straight to the egress half (table 40).
 * - tables 37-39: output to remote chassis through tunnels, and the remote part of multicast groups
 *   (patch ports run here once, then table 40 delivers locally); flags.local_only (reg10 bit 4) and packets
 *   from a ramp switch stay local.
 * - table 40: local output, loading the output port's zones; multicast groups fan out to local VIFs.
 * - table 41: drop when inport == outport unless flags.loopback (reg10 bit 0); else clear reg0-9, go to 42.
 * - table 64: with flags.loopback, clear in_port so the switch may send the packet back where it came from.
 * - table 65: to the VIF's OpenFlow port, or across a patch port into the peer datapath's ingress pipeline.
 *
 * Tunnel keys: Geneve carries the 24-bit datapath key in the VNI and option class 0x0102 type 0x80
 * (tun_metadata0) holding the 15-bit ingress port (bits 16-30) and 16-bit egress port (bits 0-15); VXLAN
 * carries only 12 bits of datapath and 12 bits of egress port in its VNI.
 *
 * With the egress-on-ingress option (egress-on-ingress.ts), a remote port of a switch it applies to runs the
 * egress pipeline here: table 39 sends it to table 41 instead of the tunnel, and table 65 tunnels it with bit 31
 * of the Geneve option set; the receiving chassis sends such a packet for one of its ports straight to table 65.
 */
import type {Datapath, MulticastGroup, PortBinding} from './sb-model.js'
import {cookieOf} from './sb-model.js'
import type {DesiredFlow} from './lflow.js'
import {formatMatch, parseMatchText} from '../openflow/match.js'
import {egressDoneFlag} from './egress-on-ingress.js'
import {portSecurityFlows, portSecurityTables} from './port-security.js'

/** OpenFlow tables of the physical pipeline (ovn-controller 23.03 OFTABLE_*). */
export const physicalTables = {phyToLog: 0, largePktDetect: 37, largePktProcess: 38, remoteOutput: 39, localOutput: 40, checkLoopback: 41, logIngress: 8, logEgress: 42, saveInport: 64, logToPhy: 65}

/** A tunnel to another chassis, as an OpenFlow port of the integration bridge. */
export interface Tunnel {
  chassis: string
  ofport: number
  type: 'geneve' | 'vxlan'
}

/** Conntrack zones: per local VIF (by logical port name) and per local datapath (DNAT, SNAT). */
export interface Zones {
  port(name: string): number | undefined
  dnat(dp: Datapath): number
  snat(dp: Datapath): number
}

/** What the physical flows are computed from. */
export interface PhysicalInput {
  datapaths: ReadonlyMap<string, Datapath>
  /** Local datapaths by UUID. */
  local: ReadonlySet<string>
  ports: readonly PortBinding[]
  portByName: ReadonlyMap<string, PortBinding>
  portByUuid: ReadonlyMap<string, PortBinding>
  multicast: readonly MulticastGroup[]
  /** OpenFlow port of each local VIF, by logical port name. */
  vifs: ReadonlyMap<string, number>
  /** Our chassis row UUID. */
  chassis: string
  /** Chassis name by UUID, for remote ports. */
  chassisNames: ReadonlyMap<string, string>
  tunnels: ReadonlyMap<string, Tunnel>
  zones: Zones
  /** Switches (datapath UUIDs) whose remote ports run their egress pipeline here (egress-on-ingress.ts). */
  egressOnIngress?: ReadonlySet<string>
  /** Told what of a local VIF's port_security could not be used (port-security.ts); called on every run. */
  onPortSecurityProblem?: (port: string, message: string) => void
}

const hex = (n: number | bigint) => (BigInt(n) === 0n ? '0' : `0x${BigInt(n).toString(16)}`)
const sf = (v: number | bigint, field: string) => `set_field:${hex(v)}->${field}`
const clearRegs = (regs: number[]) => regs.map((r) => sf(0, `reg${r}`))
const reg0to9 = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]

/** Bound on the remembered parsed matches of physical flows (one or a few per port). */
export const physicalMatchCacheMax = 200_000
const matchCache = new Map<string, {match: DesiredFlow['match']; text: string}>()

function flow(table: number, priority: number, match: string, actions: string[], origin: string, cookie = 0n): DesiredFlow {
  // The same few match texts come back on every run: parse and print each once.
  let m = matchCache.get(match)
  if (!m) {
    const parsed = parseMatchText(match)
    m = {match: parsed, text: formatMatch(parsed)}
    if (matchCache.size >= physicalMatchCacheMax) matchCache.clear()
    matchCache.set(match, m)
  }
  return {table, priority, cookie, match: m.match, matchText: m.text, actions: actions.join(',') || '', origin}
}

/** The physical flows for the current local view. */
export function physicalFlows(input: PhysicalInput): DesiredFlow[] {
  const t = physicalTables
  const out: DesiredFlow[] = [
    flow(t.phyToLog, 0, '', [], 'physical:default-drop'),
    flow(t.largePktDetect, 0, '', ['resubmit(,39)'], 'physical:output'),
    flow(t.largePktProcess, 10, 'reg10=0x1/0x1', ['resubmit(,40)'], 'physical:output'),
    flow(t.largePktProcess, 0, '', ['resubmit(,39)'], 'physical:output'),
    flow(t.remoteOutput, 150, 'reg10=0x10/0x10', ['resubmit(,40)'], 'physical:local-only'),
    flow(t.remoteOutput, 150, 'reg10=0x2/0x3', ['resubmit(,40)'], 'physical:from-ramp'),
    flow(t.remoteOutput, 0, '', ['resubmit(,40)'], 'physical:output'),
    flow(t.localOutput, 0, '', [], 'physical:output'),
    flow(t.checkLoopback, 0, '', [...clearRegs(reg0to9), 'resubmit(,42)'], 'physical:loopback'),
    flow(t.saveInport, 0, '', ['resubmit(,65)'], 'physical:loopback'),
    flow(t.logToPhy, 0, '', [], 'physical:output'),
  ]
  for (const p of input.ports) out.push(...portFlows(p, input))
  for (const mc of input.multicast) out.push(...multicastFlows(mc, input))
  for (const tun of input.tunnels.values()) out.push(tunnelIngress(tun), ...egressDoneIngress(tun, input))
  return out
}

function dpZones(dp: Datapath, input: PhysicalInput): string[] {
  return [sf(input.zones.dnat(dp), 'reg11'), sf(input.zones.snat(dp), 'reg12')]
}

/** Flows of one port binding: local VIFs and patch ports of local datapaths, and ports bound to other chassis. */
function portFlows(p: PortBinding, input: PhysicalInput): DesiredFlow[] {
  const dp = input.datapaths.get(p.datapath)
  if (!dp || !input.local.has(dp.uuid)) return []
  const t = physicalTables
  const cookie = cookieOf(p.uuid)
  const origin = `physical:port:${p.name}`
  const at = `reg15=${hex(p.key)},metadata=${hex(dp.key)}`
  const ofport = input.vifs.get(p.name)
  const peer = p.type === 'patch' ? input.portByName.get(p.options.peer) : undefined
  const peerDp = peer ? input.datapaths.get(peer.datapath) : undefined
  if (ofport === undefined && !(peer && peerDp)) return remotePortFlows(p, dp, input)
  const zone = input.zones.port(p.name)
  const zoneLoad = zone !== undefined && ofport !== undefined ? [sf(zone, 'reg13')] : []
  const out = [
    flow(t.localOutput, 100, at, [...zoneLoad, ...dpZones(dp, input), 'resubmit(,41)'], origin, cookie),
    flow(t.checkLoopback, 100, `reg10=0/0x1,reg14=${hex(p.key)},${at}`, [], origin, cookie),
    flow(t.saveInport, 100, `reg10=0x1/0x1,${at}`, ['push:NXM_OF_IN_PORT[]', 'set_field:ANY->in_port', 'resubmit(,65)', 'pop:NXM_OF_IN_PORT[]'], origin, cookie),
  ]
  if (ofport !== undefined) {
    out.push(flow(t.phyToLog, 100, `in_port=${ofport}`, [...zoneLoad, ...dpZones(dp, input), sf(dp.key, 'metadata'), sf(p.key, 'reg14'), 'resubmit(,8)'], origin, cookie))
    out.push(flow(t.logToPhy, 100, at, [`output:${ofport}`], origin, cookie))
    const security = portSecurityFlows(p, dp)
    out.push(...security.flows)
    for (const problem of security.problems) input.onPortSecurityProblem?.(p.name, problem)
  } else if (peer && peerDp) {
    const into = ['ct_clear', ...clearRegs([11, 12, 13]), ...dpZones(peerDp, input), sf(peerDp.key, 'metadata'), sf(peer.key, 'reg14'), ...clearRegs([10, 15]), ...clearRegs(reg0to9), 'resubmit(,8)']
    out.push(flow(t.logToPhy, 100, at, [`clone(${into.join(',')})`], origin, cookie))
  }
  return out
}

/** A port bound to another chassis: tunnel to it (table 39). */
function remotePortFlows(p: PortBinding, dp: Datapath, input: PhysicalInput): DesiredFlow[] {
  if (p.chassis === undefined || p.chassis === input.chassis) return []
  const tun = input.tunnels.get(input.chassisNames.get(p.chassis) ?? '')
  if (!tun) return []
  const at = `reg15=${hex(p.key)},metadata=${hex(dp.key)}`
  const cookie = cookieOf(p.uuid)
  if (tun.type === 'geneve' && p.type === '' && input.egressOnIngress?.has(dp.uuid)) {
    // The port's zone is on its own chassis: the egress pipeline of a switch the option applies to runs no
    // conntrack (egress-on-ingress.ts), so it gets zone 0 rather than the ingress port's zone.
    const origin = `physical:egress-on-ingress:${p.name}`
    // The egress pipeline's check_out_port_sec() for this port runs here now, and the receiver trusts bit 31 and
    // skips it: the port's egress port security (table 75) must be here too, or a packet it forbids would pass.
    const security = portSecurityFlows(p, dp).flows.filter((f) => f.table === portSecurityTables.outPortSec)
    return [
      flow(physicalTables.remoteOutput, 100, at, [sf(0, 'reg13'), ...dpZones(dp, input), 'resubmit(,41)'], origin, cookie),
      flow(physicalTables.logToPhy, 100, at, [...encapsulate(tun, dp.key, p.key, {egressDone: true}), `output:${tun.ofport}`], origin, cookie),
      ...security,
    ]
  }
  return [flow(physicalTables.remoteOutput, 100, at, [...encapsulate(tun, dp.key, p.key), `output:${tun.ofport}`], `physical:port:${p.name}`, cookie)]
}

/**
 * Actions that put datapath, ingress and egress port into the tunnel key (ovn-architecture(7) "Tunnel
 * Encapsulations"); `egressDone` sets bit 31 of the Geneve option (egress-on-ingress.ts).
 */
export function encapsulate(tun: Tunnel, dpKey: number, outport: number, options: {egressDone?: boolean} = {}): string[] {
  if (tun.type === 'vxlan') return [sf((BigInt(outport) << 12n) | BigInt(dpKey & 0xfff), 'tun_id')]
  const option = options.egressDone ? (BigInt(outport) | BigInt(egressDoneFlag)) : outport
  return [sf(dpKey, 'tun_id'), sf(option, 'tun_metadata0'), 'move:NXM_NX_REG14[0..14]->NXM_NX_TUN_METADATA0[16..30]']
}

/**
 * Table 0 for a Geneve tunnel: a packet whose egress pipeline already ran (bit 31 of the option) for a local VIF
 * of a switch the option applies to goes straight to table 65. Only local VIFs: a flagged packet for a port this
 * chassis does not have (the chassis disagree while a port moves) takes the ordinary path and is dropped in
 * table 40, rather than bounced back through a tunnel. Other flagged packets run the egress pipeline again.
 */
function egressDoneIngress(tun: Tunnel, input: PhysicalInput): DesiredFlow[] {
  if (tun.type !== 'geneve' || !input.egressOnIngress?.size) return []
  const out: DesiredFlow[] = []
  for (const p of input.ports) {
    const dp = input.datapaths.get(p.datapath)
    if (!dp || !input.egressOnIngress.has(dp.uuid) || !input.vifs.has(p.name)) continue
    const match = `in_port=${tun.ofport},tun_id=${hex(dp.key)},tun_metadata0=${hex(BigInt(egressDoneFlag) | BigInt(p.key))}/${hex(BigInt(egressDoneFlag) | 0xffffn)}`
    const actions = [sf(dp.key, 'metadata'), 'move:NXM_NX_TUN_METADATA0[16..30]->NXM_NX_REG14[0..14]', sf(p.key, 'reg15'), 'resubmit(,65)']
    out.push(flow(physicalTables.phyToLog, 110, match, actions, `physical:egress-on-ingress:${p.name}`, cookieOf(p.uuid)))
  }
  return out
}

/** Table 0 for a tunnel port: the tunnel key becomes datapath, ingress and egress port; egress runs here. */
function tunnelIngress(tun: Tunnel): DesiredFlow {
  const actions =
    tun.type === 'vxlan'
      ? ['move:NXM_NX_TUN_ID[0..11]->OXM_OF_METADATA[0..11]', 'move:NXM_NX_TUN_ID[12..23]->NXM_NX_REG15[0..11]', 'resubmit(,40)']
      : ['move:NXM_NX_TUN_ID[0..23]->OXM_OF_METADATA[0..23]', 'move:NXM_NX_TUN_METADATA0[16..30]->NXM_NX_REG14[0..14]', 'move:NXM_NX_TUN_METADATA0[0..15]->NXM_NX_REG15[0..15]', 'resubmit(,40)']
  return flow(physicalTables.phyToLog, 100, `in_port=${tun.ofport}`, actions, `physical:tunnel:${tun.chassis}`)
}

/** A multicast group: patch ports and remote chassis in table 39, local VIFs in table 40. */
function multicastFlows(mc: MulticastGroup, input: PhysicalInput): DesiredFlow[] {
  const dp = input.datapaths.get(mc.datapath)
  if (!dp || !input.local.has(dp.uuid)) return []
  const members = mc.ports.map((u) => input.portByUuid.get(u)).filter((p): p is PortBinding => p !== undefined)
  const at = `reg15=${hex(mc.key)},metadata=${hex(dp.key)}`
  const origin = `physical:multicast:${mc.name}`
  const cookie = cookieOf(mc.uuid)
  const local: string[] = []
  const remote: string[] = []
  const chassisDone = new Set<string>()
  for (const p of members) {
    if (input.vifs.has(p.name)) {
      local.push(...(input.zones.port(p.name) !== undefined ? [sf(input.zones.port(p.name)!, 'reg13')] : []), sf(p.key, 'reg15'), 'resubmit(,41)')
    } else if (p.type === 'patch') {
      remote.push(sf(p.key, 'reg15'), 'resubmit(,41)')
    } else if (p.chassis !== undefined && p.chassis !== input.chassis && !chassisDone.has(p.chassis)) {
      const tun = input.tunnels.get(input.chassisNames.get(p.chassis) ?? '')
      if (!tun) continue
      chassisDone.add(p.chassis)
      remote.push(...encapsulate(tun, dp.key, mc.key), `output:${tun.ofport}`)
    }
  }
  const out: DesiredFlow[] = []
  if (remote.length > 0) out.push(flow(physicalTables.remoteOutput, 100, at, [...remote, sf(mc.key, 'reg15'), 'resubmit(,40)'], origin, cookie))
  if (local.length > 0) out.push(flow(physicalTables.localOutput, 100, at, [...local, sf(mc.key, 'reg15')], origin, cookie))
  return out
}
