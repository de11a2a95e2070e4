/**
 * Port security flows (ovn-controller 23.03 lflow.c consider_port_sec_flows, learned by dumping the real
 * controller's tables): the logical actions check_in_port_sec() and check_out_port_sec() resubmit to tables 73
 * (in_port_sec), 74 (in_port_sec_nd) and 75 (out_port_sec) and read the verdict from flags.port_sec_failed
 * (reg10 bit 12, MLF_CHECK_PORT_SEC_BIT). Each local VIF with Port_Binding.port_security gets, per entry
 * "MAC [IP...]" (ovn-sb(5) Port_Binding port_security, ovn-nb(5) Logical_Switch_Port port_security):
 *
 * - table 73: default fail (80); ARP on to 74 (95); the entry's MAC alone on to 74 when it has no IP (90); with
 *   IPv4, ip from MAC+address and the DHCP discover from 0.0.0.0 pass (90); with IPv6, ipv6 from MAC+address or
 *   its link-local address on to 74, and MLD reports and the DAD solicitation from :: (90).
 * - table 74: ARP fails (80) unless sender MAC and (with IPv4) sender IP are the entry's (90); neighbour
 *   advertisements fail and solicitations pass (80); ND with the entry's link-layer address passes (90).
 * - table 75: default fail (80); the MAC as destination passes (85) but not for IP when the entry has IPs (90),
 *   unless to one of its addresses, broadcast or multicast (95).
 *
 * The real controller's quirks are kept so that verdicts are the same: the ND flows of table 74 at priority 90
 * match nw_ttl=225 (not 255), and IPv4/IPv6 addresses match exactly whatever their prefix length. An entry whose
 * MAC does not parse is skipped; addresses after the first one that does not parse are ignored (ovn-util.c
 * extract_lsp_addresses); both are reported. A port with no usable entry gets no port security flows.
 */
import {parseIpv4, parseIpv6} from '../pipeline/lexer.js'
import {formatMatch, parseMatchText} from '../openflow/match.js'
import type {DesiredFlow} from './lflow.js'
import {cookieOf, type Datapath, type PortBinding} from './sb-model.js'

/** OpenFlow tables of port security (ovn-controller 23.03 OFTABLE_CHK_IN_PORT_SEC, _ND, OFTABLE_CHK_OUT_PORT_SEC). */
export const portSecurityTables = {inPortSec: 73, inPortSecNd: 74, outPortSec: 75}

/** One parsed port_security entry: a MAC and the addresses that follow it. */
export interface PortSecurityEntry {
  mac: string
  ipv4: Array<{addr: string; plen: number}>
  ipv6: string[]
}

/** The entries of a port_security column that parse, and a message for each that does not, fully. */
export function parsePortSecurity(entries: readonly string[]): {entries: PortSecurityEntry[]; problems: string[]} {
  const out: PortSecurityEntry[] = []
  const problems: string[] = []
  for (const text of entries) {
    const [macText, ...rest] = text.trim().split(/\s+/)
    if (!/^[0-9a-f]{1,2}(:[0-9a-f]{1,2}){5}$/i.test(macText ?? '')) {
      problems.push(`invalid syntax "${text}" in port security: no MAC address found, entry ignored`)
      continue
    }
    const entry: PortSecurityEntry = {mac: macText.split(':').map((b) => b.toLowerCase().padStart(2, '0')).join(':'), ipv4: [], ipv6: []}
    for (const [i, token] of rest.entries()) {
      const [addr, plenText, extra] = token.split('/')
      const plen = plenText === undefined ? undefined : prefixLength(plenText)
      if (extra === undefined && parseIpv4(addr) !== undefined && (plen === undefined || plen <= 32)) {
        entry.ipv4.push({addr, plen: plen ?? 32})
      } else if (extra === undefined && parseIpv6(addr) !== undefined && (plen === undefined || plen <= 128)) {
        entry.ipv6.push(addr)
      } else {
        problems.push(`invalid syntax "${text}" in port security: "${rest.slice(i).join(' ')}" ignored`)
        break
      }
    }
    out.push(entry)
  }
  return {entries: out, problems}
}

/** A prefix length given as a number or, for IPv4, as a contiguous netmask ("255.255.255.0"), as ip_parse_cidr_len takes it. */
function prefixLength(text: string): number {
  if (/^\d{1,3}$/.test(text)) return Number(text)
  const mask = parseIpv4(text)
  if (mask === undefined) return NaN
  const contiguous = /^(1*)0*$/.exec(mask.toString(2).padStart(32, '0'))
  return contiguous ? contiguous[1].length : NaN
}

/** The IPv6 link-local address of a MAC (RFC 4291 appendix A, modified EUI-64), as text. */
export function linkLocalOf(mac: string): string {
  const b = mac.split(':').map((x) => parseInt(x, 16))
  const g = (hi: number, lo: number) => ((hi << 8) | lo).toString(16)
  return `fe80::${g(b[0] ^ 0x02, b[1])}:${g(b[2], 0xff)}:${g(0xfe, b[3])}:${g(b[4], b[5])}`
}

function broadcastOf(addr: string, plen: number): string {
  const host = (1n << BigInt(32 - plen)) - 1n
  const n = parseIpv4(addr)! | host
  return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 0xffn)).join('.')
}

const fail = 'set_field:0x1000/0x1000->reg10'
const pass = 'set_field:0/0x1000->reg10'
const toNd = 'resubmit(,74)'
const zeroMac = '00:00:00:00:00:00'

/** The flows of the entries of one port, before deduplication: [table, priority, match, actions]. */
function entryFlows(inport: string, outport: string, e: PortSecurityEntry): Array<[number, number, string, string]> {
  const t = portSecurityTables
  const f: Array<[number, number, string, string]> = []
  const noIp = e.ipv4.length === 0 && e.ipv6.length === 0
  const lla = linkLocalOf(e.mac)
  if (noIp) f.push([t.inPortSec, 90, `${inport},dl_src=${e.mac}`, toNd])
  if (e.ipv4.length > 0) {
    for (const a of e.ipv4) f.push([t.inPortSec, 90, `ip,${inport},dl_src=${e.mac},nw_src=${a.addr}`, pass])
    f.push([t.inPortSec, 90, `udp,${inport},dl_src=${e.mac},nw_src=0.0.0.0,nw_dst=255.255.255.255,tp_src=68,tp_dst=67`, pass])
  }
  // ARP: only with IPv4 addresses, or with none at all (an IPv6-only entry sends no ARP).
  if (e.ipv4.length > 0) for (const a of e.ipv4) f.push([t.inPortSecNd, 90, `arp,${inport},dl_src=${e.mac},arp_spa=${a.addr},arp_sha=${e.mac}`, pass])
  else if (noIp) f.push([t.inPortSecNd, 90, `arp,${inport},dl_src=${e.mac},arp_sha=${e.mac}`, pass])
  if (e.ipv6.length > 0) {
    for (const a of [...e.ipv6, lla]) f.push([t.inPortSec, 90, `ipv6,${inport},dl_src=${e.mac},ipv6_src=${a}`, toNd])
    for (const [type, action] of [[131, pass], [143, pass], [135, toNd]] as const) {
      f.push([t.inPortSec, 90, `icmp6,${inport},dl_src=${e.mac},ipv6_src=::,ipv6_dst=ff02::/16,icmp_type=${type},icmp_code=0`, action])
    }
  }
  for (const sll of [zeroMac, e.mac]) f.push([t.inPortSecNd, 90, `icmp6,${inport},nw_ttl=225,icmp_type=135,icmp_code=0,nd_sll=${sll}`, pass])
  for (const tll of [zeroMac, e.mac]) {
    if (e.ipv6.length === 0) f.push([t.inPortSecNd, 90, `icmp6,${inport},nw_ttl=225,icmp_type=136,icmp_code=0,nd_tll=${tll}`, pass])
    else {
      f.push([t.inPortSecNd, 90, `icmp6,${inport},nw_ttl=225,icmp_type=136,icmp_code=0,nd_target=${lla},nd_tll=${tll}`, pass])
      for (const a of e.ipv6) f.push([t.inPortSecNd, 90, `icmp6,${inport},dl_src=${e.mac},icmp_type=136,icmp_code=0,nd_target=${a},nd_tll=${tll}`, pass])
    }
  }
  f.push([t.outPortSec, 85, `${outport},dl_dst=${e.mac}`, pass])
  if (!noIp) for (const proto of ['ip', 'ipv6']) f.push([t.outPortSec, 90, `${proto},${outport},dl_dst=${e.mac}`, fail])
  if (e.ipv4.length > 0) {
    const dsts = e.ipv4.flatMap((a) => (a.plen < 32 ? [a.addr, broadcastOf(a.addr, a.plen)] : [a.addr]))
    for (const d of [...dsts, '255.255.255.255', '224.0.0.0/4']) f.push([t.outPortSec, 95, `ip,${outport},dl_dst=${e.mac},nw_dst=${d}`, pass])
  }
  if (e.ipv6.length > 0) for (const d of [...e.ipv6, lla, 'ff00::/8']) f.push([t.outPortSec, 95, `ipv6,${outport},dl_dst=${e.mac},ipv6_dst=${d}`, pass])
  return f
}

/** The port security flows of a local VIF, and what of its port_security column could not be used. */
export function portSecurityFlows(p: PortBinding, dp: Datapath): {flows: DesiredFlow[]; problems: string[]} {
  const {entries, problems} = parsePortSecurity(p.portSecurity)
  if (entries.length === 0) return {flows: [], problems}
  const t = portSecurityTables
  const hex = (n: number) => `0x${n.toString(16)}`
  const inport = `reg14=${hex(p.key)},metadata=${hex(dp.key)}`
  const outport = `reg15=${hex(p.key)},metadata=${hex(dp.key)}`
  const all: Array<[number, number, string, string]> = [
    [t.inPortSec, 80, inport, fail],
    [t.inPortSec, 95, `arp,${inport}`, toNd],
    [t.inPortSecNd, 80, `arp,${inport}`, fail],
    [t.inPortSecNd, 80, `icmp6,${inport},nw_ttl=255,icmp_type=136`, fail],
    [t.inPortSecNd, 80, `icmp6,${inport},nw_ttl=255,icmp_type=135`, pass],
    [t.outPortSec, 80, outport, fail],
    ...entries.flatMap((e) => entryFlows(inport, outport, e)),
  ]
  // The same match from two entries (a shared MAC, the all-zero ND address) is one flow, as in ovn-controller's
  // desired flow table, which keys flows by table, priority and match.
  const flows = new Map<string, DesiredFlow>()
  for (const [table, priority, text, actions] of all) {
    const match = parseMatchText(text)
    const matchText = formatMatch(match)
    const key = `${table}/${priority}/${matchText}`
    if (!flows.has(key)) flows.set(key, {table, priority, cookie: cookieOf(p.uuid), match, matchText, actions, origin: `physical:port-security:${p.name}`})
  }
  return {flows: [...flows.values()], problems}
}
