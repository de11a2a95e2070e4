/**
 * Load balancer hairpin flows (ovn-controller 23.03 lflow.c, tables 68-70): a packet that a load balancer sent
 * back to the backend it came from must be SNATed to the VIP so that the backend answers through conntrack.
 * Table 68 (chk_lb_hairpin) recognises such a packet after DNAT: ct_mark.natted set, the original destination
 * (reg1 for IPv4, xxreg1 for IPv6; port in reg2[0..15]) a VIP, and source = destination = one of its backends;
 * it sets flags.hairpin (reg10[7]) and learns a flow in table 69 for the replies. Table 70 (ct_snat_to_vip)
 * commits the hairpinned packet with SNAT to the VIP (or the load balancer's hairpin_snat_ip). The flows are not
 * per datapath: one set per load balancer applied to a local datapath. Cookie: the Load_Balancer UUID prefix.
 */
import type {JsonRow} from '../idl/monitor.js'
import {parseIpv4, parseIpv6} from '../pipeline/lexer.js'
import {formatMatch, parseMatchText, withField} from '../openflow/match.js'
import type {DesiredFlow} from './lflow.js'
import {cookieOf, mapOf, optionalOf, setOf} from './sb-model.js'

/** ovn-sb(5) Load_Balancer, as the hairpin flows need it. */
export interface LoadBalancer {
  uuid: string
  protocol: 'tcp' | 'udp' | 'sctp'
  vips: Record<string, string>
  datapaths: string[]
  datapathGroup?: string
  hairpinSnatIp?: string
}

/** Reads a Load_Balancer row. */
export function readLoadBalancer(uuid: string, r: JsonRow): LoadBalancer {
  const protocol = optionalOf(r.protocol)
  return {
    uuid,
    protocol: protocol === 'udp' || protocol === 'sctp' ? protocol : 'tcp',
    vips: mapOf(r.vips),
    datapaths: setOf(r.datapaths),
    datapathGroup: optionalOf(r.datapath_group),
    hairpinSnatIp: mapOf(r.options).hairpin_snat_ip,
  }
}

interface Endpoint {
  ip: string
  v6: boolean
  port?: number
}

/** "10.0.0.1:80", "10.0.0.1", "[fd00::1]:80" or "fd00::1"; undefined when it is none of these. */
function endpoint(text: string): Endpoint | undefined {
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(text) ?? (text.includes('::') || text.split(':').length > 2 ? /^([0-9a-fA-F:.]+)()$/.exec(text) : null)
  if (v6) return parseIpv6(v6[1]) === undefined ? undefined : {ip: v6[1], v6: true, port: v6[2] ? Number(v6[2]) : undefined}
  const v4 = /^(\d+\.\d+\.\d+\.\d+)(?::(\d+))?$/.exec(text)
  if (!v4 || parseIpv4(v4[1]) === undefined) return undefined
  return {ip: v4[1], v6: false, port: v4[2] ? Number(v4[2]) : undefined}
}

const protoNumber = {tcp: 6, udp: 17, sctp: 132}
const portField = {tcp: 'TCP', udp: 'UDP', sctp: 'SCTP'}

function hex(n: bigint): string {
  return `0x${n.toString(16)}`
}

function flow(table: number, match: string, actions: string, lb: LoadBalancer, vip: Endpoint): DesiredFlow {
  // The IPv6 VIP is in xxreg1, which match text cannot name: add it as a field.
  const m = vip.v6 ? withField(parseMatchText(match), 'xxreg1', parseIpv6(vip.ip)!) : parseMatchText(match)
  return {table, priority: 100, cookie: cookieOf(lb.uuid), match: m, matchText: formatMatch(m), actions, origin: `physical:lb-hairpin:${lb.uuid}`}
}

/** The VIP part of a hairpin match: protocol, original destination IP and port. */
function vipMatch(lb: LoadBalancer, vip: Endpoint): string {
  const proto = `${vip.v6 ? 'ipv6' : 'ip'},nw_proto=${protoNumber[lb.protocol]}`
  const dip = vip.v6 ? '' : `,reg1=${hex(parseIpv4(vip.ip)!)}`
  return `${proto}${dip}${vip.port !== undefined ? `,reg2=${hex(BigInt(vip.port))}/0xffff` : ''}`
}

/** The hairpin flows of the load balancers that apply to a local datapath. */
export function hairpinFlows(lbs: Iterable<LoadBalancer>, isLocal: (lb: LoadBalancer) => boolean): DesiredFlow[] {
  const out: DesiredFlow[] = []
  for (const lb of lbs) {
    if (!isLocal(lb)) continue
    for (const [vipText, backendsText] of Object.entries(lb.vips)) {
      const vip = endpoint(vipText)
      if (!vip) continue
      const snat = lb.hairpinSnatIp?.split(/\s+/).find((ip) => endpoint(ip)?.v6 === vip.v6) ?? vip.ip
      out.push(flow(70, vipMatch(lb, vip), `ct(commit,zone=NXM_NX_REG12[0..15],nat(src=${snat}))`, lb, vip))
      for (const b of backendsText.split(',').map((t) => endpoint(t.trim()))) {
        if (!b || b.v6 !== vip.v6) continue
        const ports = b.port !== undefined ? `,tp_dst=${b.port}` : ''
        const src = b.v6 ? `ipv6_src=${b.ip},ipv6_dst=${b.ip}` : `nw_src=${b.ip},nw_dst=${b.ip}`
        const field = portField[lb.protocol]
        const learnPorts = vip.port !== undefined ? `,NXM_OF_${field}_SRC[]=NXM_OF_${field}_DST[]` : ''
        const learnIp = vip.v6 ? `eth_type=0x86dd,NXM_NX_IPV6_SRC[],ipv6_dst=${vip.ip}` : `eth_type=0x800,NXM_OF_IP_SRC[],ip_dst=${vip.ip}`
        const learn = `learn(table=69,delete_learned,cookie=${hex(cookieOf(lb.uuid))},OXM_OF_METADATA[],${learnIp},nw_proto=${protoNumber[lb.protocol]}${learnPorts},load:0x1->NXM_NX_REG10[7])`
        out.push(flow(68, `ct_mark=0x2/0x2,${vipMatch(lb, vip)},${src}${ports}`, `set_field:0x80/0x80->reg10,${learn}`, lb, vip))
      }
    }
  }
  return out
}
