/**
 * The symbol table of logical fields (ovn-sb(5) Logical_Flow, "Symbols"). Three kinds: fields (a packet header or
 * metadata field, integer with a width or string), subfields (a bit range of a field) and predicates (shorthand
 * for an expression). Fields are ordinal when OpenFlow can mask them, nominal otherwise; string fields are always
 * nominal. Registers follow ovn-architecture(7): logical input port in reg14, output port in reg15, flags in
 * reg10; reg0..reg7 overlay xxreg0/xxreg1 and reg8/reg9 overlay xreg4, reg0 being the most significant.
 */
import type {IntFormat} from './lexer.js'

/** Level of measurement (ovn-sb(5) "Level of Measurement"). */
export type Level = 'ordinal' | 'nominal' | 'boolean'

/** A packet or metadata field with its OpenFlow field (ovs-ofctl match name). */
export interface FieldSymbol {
  kind: 'field'
  name: string
  width: number
  level: Level
  /** ovs-ofctl name of the OpenFlow field: `dl_src`, `reg14`, `xxreg0` ... */
  ofField: string
  /** Expression text implied by any use of the field, e.g. `ip4` for `ip4.src`. */
  prereqs?: string
  /** Whether actions may assign it. */
  writable: boolean
  /** Notation for printing constants. */
  format: IntFormat
  /** A string field, compared with port or group names that the context maps to tunnel keys. */
  isString?: boolean
}

/** A bit range `[lo..hi]` of a field. */
export interface SubfieldSymbol {
  kind: 'subfield'
  name: string
  parent: string
  lo: number
  hi: number
  prereqs?: string
}

/** A named expression, usable as a 1-bit field. */
export interface PredicateSymbol {
  kind: 'predicate'
  name: string
  expansion: string
}

/** Any entry of the table. */
export type LogicalSymbol = FieldSymbol | SubfieldSymbol | PredicateSymbol

/** Lookup by name. */
export type SymbolTable = ReadonlyMap<string, LogicalSymbol>

/** Builds a symbol table from entries, checking that subfields name a known field and fit its width. */
export function makeSymbolTable(entries: LogicalSymbol[]): SymbolTable {
  const table = new Map<string, LogicalSymbol>()
  for (const s of entries) {
    if (table.has(s.name)) throw new Error(`duplicate symbol "${s.name}"`)
    if (s.kind === 'subfield') {
      const parent = table.get(s.parent)
      if (!parent || parent.kind !== 'field' || s.hi >= parent.width || s.lo > s.hi) {
        throw new Error(`subfield "${s.name}" does not fit field "${s.parent}"`)
      }
    }
    table.set(s.name, s)
  }
  return table
}

interface FieldOptions {
  level?: Level
  prereqs?: string
  writable?: boolean
  format?: IntFormat
}

/** Shorthand constructor for a field entry. */
export function field(name: string, width: number, ofField: string, o: FieldOptions = {}): FieldSymbol {
  return {
    kind: 'field',
    name,
    width,
    ofField,
    level: o.level ?? 'ordinal',
    prereqs: o.prereqs,
    writable: o.writable ?? true,
    format: o.format ?? 'decimal',
  }
}

/** Shorthand constructor for a subfield entry. */
export function subfield(name: string, parent: string, lo: number, hi: number, prereqs?: string): SubfieldSymbol {
  return {kind: 'subfield', name, parent, lo, hi, prereqs}
}

/** Shorthand constructor for a predicate entry. */
export function predicate(name: string, expansion: string): PredicateSymbol {
  return {kind: 'predicate', name, expansion}
}

function registers(): LogicalSymbol[] {
  const out: LogicalSymbol[] = [field('xxreg0', 128, 'xxreg0', {format: 'hex'}), field('xxreg1', 128, 'xxreg1', {format: 'hex'})]
  for (let xi = 0; xi < 4; xi++) out.push(subfield(`xreg${xi}`, `xxreg${xi >> 1}`, 64 * (1 - (xi % 2)), 64 * (1 - (xi % 2)) + 63))
  out.push(field('xreg4', 64, 'xreg4', {format: 'hex'}))
  for (let i = 0; i < 8; i++) {
    const lo = 32 * (3 - (i % 4))
    out.push(subfield(`reg${i}`, `xxreg${i >> 2}`, lo, lo + 31))
  }
  out.push(subfield('reg8', 'xreg4', 32, 63), subfield('reg9', 'xreg4', 0, 31))
  return out
}

/** Logical flag bits in reg10 (ovn-architecture(7) "logical flow flags"; bit numbers as OVN 23.03 assigns them). */
const flagBits: Array<[string, number]> = [
  ['loopback', 0],
  ['force_snat_for_dnat', 2],
  ['force_snat_for_lb', 3],
  ['skip_snat_for_lb', 9],
  ['use_snat_zone', 11],
  ['localnet', 14],
]

function ctFields(): LogicalSymbol[] {
  const ct = 'ct.trk'
  return [
    field('ct_state', 8, 'ct_state', {writable: false, format: 'hex'}),
    subfield('ct.new', 'ct_state', 0, 0, ct),
    subfield('ct.est', 'ct_state', 1, 1, ct),
    subfield('ct.rel', 'ct_state', 2, 2, ct),
    subfield('ct.rpl', 'ct_state', 3, 3, ct),
    subfield('ct.inv', 'ct_state', 4, 4, ct),
    subfield('ct.trk', 'ct_state', 5, 5),
    subfield('ct.snat', 'ct_state', 6, 6, ct),
    subfield('ct.dnat', 'ct_state', 7, 7, ct),
    field('ct_mark', 32, 'ct_mark', {format: 'hex'}),
    subfield('ct_mark.blocked', 'ct_mark', 0, 0),
    subfield('ct_mark.natted', 'ct_mark', 1, 1),
    subfield('ct_mark.skip_snat', 'ct_mark', 2, 2),
    subfield('ct_mark.force_snat', 'ct_mark', 3, 3),
    subfield('ct_mark.ecmp_reply_port', 'ct_mark', 16, 31),
    field('ct_label', 128, 'ct_label', {format: 'hex'}),
    subfield('ct_label.blocked', 'ct_label', 0, 0),
    subfield('ct_label.natted', 'ct_label', 1, 1),
    subfield('ct_label.skip_snat', 'ct_label', 2, 2),
    subfield('ct_label.force_snat', 'ct_label', 3, 3),
    subfield('ct_label.ecmp_reply_eth', 'ct_label', 32, 79),
    subfield('ct_label.ecmp_reply_port', 'ct_label', 80, 95),
    subfield('ct_label.label', 'ct_label', 96, 127),
    // OpenFlow requires the original-direction tuple fields to come with a valid ct_state and an IP dl_type (ovs-fields(7) ct_nw_src).
    field('ct_nw_src', 32, 'ct_nw_src', {writable: false, format: 'ipv4', prereqs: 'ct.trk && !ct.inv && ip4'}),
    field('ct_nw_dst', 32, 'ct_nw_dst', {writable: false, format: 'ipv4', prereqs: 'ct.trk && !ct.inv && ip4'}),
    field('ct_ip6_src', 128, 'ct_ipv6_src', {writable: false, format: 'ipv6', prereqs: 'ct.trk && !ct.inv && ip6'}),
    field('ct_ip6_dst', 128, 'ct_ipv6_dst', {writable: false, format: 'ipv6', prereqs: 'ct.trk && !ct.inv && ip6'}),
    field('ct_proto', 8, 'ct_nw_proto', {writable: false, level: 'nominal', prereqs: 'ct.trk && !ct.inv && ip'}),
    field('ct_tp_src', 16, 'ct_tp_src', {writable: false, prereqs: 'ct.trk && !ct.inv && ip'}),
    field('ct_tp_dst', 16, 'ct_tp_dst', {writable: false, prereqs: 'ct.trk && !ct.inv && ip'}),
  ]
}

function l2l3Fields(): LogicalSymbol[] {
  const nominal = {level: 'nominal' as const}
  return [
    field('eth.src', 48, 'dl_src', {format: 'mac'}),
    field('eth.dst', 48, 'dl_dst', {format: 'mac'}),
    field('eth.type', 16, 'dl_type', {...nominal, writable: false, format: 'hex'}),
    predicate('eth.bcast', 'eth.dst == ff:ff:ff:ff:ff:ff'),
    predicate('eth.mcast', 'eth.dst[40]'),
    predicate('eth.mcastv6', 'eth.dst[32..47] == 0x3333'),
    field('vlan.tci', 16, 'vlan_tci', {format: 'hex'}),
    subfield('vlan.vid', 'vlan.tci', 0, 11, 'vlan.present'),
    subfield('vlan.pcp', 'vlan.tci', 13, 15, 'vlan.present'),
    predicate('vlan.present', 'vlan.tci[12]'),
    predicate('ip4', 'eth.type == 0x800'),
    predicate('ip6', 'eth.type == 0x86dd'),
    predicate('ip', 'ip4 || ip6'),
    field('ip.proto', 8, 'nw_proto', {...nominal, writable: false, prereqs: 'ip'}),
    field('ip.dscp', 6, 'ip_dscp', {...nominal, prereqs: 'ip'}),
    field('ip.ecn', 2, 'nw_ecn', {...nominal, prereqs: 'ip'}),
    field('ip.ttl', 8, 'nw_ttl', {...nominal, prereqs: 'ip'}),
    field('ip.frag', 2, 'nw_frag', {writable: false, prereqs: 'ip'}),
    predicate('ip.is_frag', 'ip.frag[0]'),
    predicate('ip.later_frag', 'ip.frag[1]'),
    predicate('ip.first_frag', 'ip.is_frag && !ip.later_frag'),
    field('ip4.src', 32, 'nw_src', {prereqs: 'ip4', format: 'ipv4'}),
    field('ip4.dst', 32, 'nw_dst', {prereqs: 'ip4', format: 'ipv4'}),
    predicate('ip4.src_mcast', 'ip4.src[28..31] == 0xe'),
    predicate('ip4.mcast', 'eth.mcast && ip4.dst[28..31] == 0xe'),
    field('ip6.src', 128, 'ipv6_src', {prereqs: 'ip6', format: 'ipv6'}),
    field('ip6.dst', 128, 'ipv6_dst', {prereqs: 'ip6', format: 'ipv6'}),
    field('ip6.label', 20, 'ipv6_label', {prereqs: 'ip6', format: 'hex'}),
    predicate('ip6.mcast', 'eth.mcastv6 && ip6.dst[120..127] == 0xff'),
    predicate('ip6.mcast_rsvd', 'ip6.dst[116..127] == 0xff0 && ip6.dst[0..111] == 0'),
    predicate('ip6.mcast_all_nodes', 'ip6.dst == ff02::1 || ip6.dst == ff01::1'),
    predicate('ip6.mcast_all_rtrs', 'ip6.dst == ff02::2 || ip6.dst == ff01::2 || ip6.dst == ff05::2'),
    predicate('ip6.mcast_sol_node', 'ip6.dst[24..127] == 0xff0200000000000000000001ff'),
    predicate('ip6.mcast_flood', 'eth.mcastv6 && (ip6.mcast_rsvd || ip6.mcast_all_nodes || ip6.mcast_all_rtrs || ip6.mcast_sol_node)'),
    predicate('icmp4', 'ip4 && ip.proto == 1'),
    predicate('icmp6', 'ip6 && ip.proto == 58'),
    predicate('icmp', 'icmp4 || icmp6'),
    field('icmp4.type', 8, 'icmp_type', {...nominal, prereqs: 'icmp4'}),
    field('icmp4.code', 8, 'icmp_code', {...nominal, prereqs: 'icmp4'}),
    field('icmp6.type', 8, 'icmp_type', {...nominal, prereqs: 'icmp6'}),
    field('icmp6.code', 8, 'icmp_code', {...nominal, prereqs: 'icmp6'}),
    predicate('igmp', 'ip4 && ip.proto == 2'),
    predicate('arp', 'eth.type == 0x806'),
    predicate('rarp', 'eth.type == 0x8035'),
    field('arp.op', 16, 'arp_op', {...nominal, prereqs: 'arp'}),
    field('arp.spa', 32, 'arp_spa', {prereqs: 'arp', format: 'ipv4'}),
    field('arp.tpa', 32, 'arp_tpa', {prereqs: 'arp', format: 'ipv4'}),
    field('arp.sha', 48, 'arp_sha', {prereqs: 'arp', format: 'mac'}),
    field('arp.tha', 48, 'arp_tha', {prereqs: 'arp', format: 'mac'}),
    field('rarp.op', 16, 'arp_op', {...nominal, prereqs: 'rarp'}),
    field('rarp.spa', 32, 'arp_spa', {prereqs: 'rarp', format: 'ipv4'}),
    field('rarp.tpa', 32, 'arp_tpa', {prereqs: 'rarp', format: 'ipv4'}),
    field('rarp.sha', 48, 'arp_sha', {prereqs: 'rarp', format: 'mac'}),
    field('rarp.tha', 48, 'arp_tha', {prereqs: 'rarp', format: 'mac'}),
    predicate('nd', 'icmp6.type == {135, 136} && icmp6.code == 0 && ip.ttl == 255'),
    predicate('nd_ns', 'icmp6.type == 135 && icmp6.code == 0 && ip.ttl == 255'),
    predicate('nd_na', 'icmp6.type == 136 && icmp6.code == 0 && ip.ttl == 255'),
    predicate('nd_rs', 'icmp6.type == 133 && icmp6.code == 0 && ip.ttl == 255'),
    predicate('nd_ra', 'icmp6.type == 134 && icmp6.code == 0 && ip.ttl == 255'),
    predicate('nd_ns_mcast', 'ip6.mcast && icmp6.type == 135 && icmp6.code == 0 && ip.ttl == 255'),
    predicate('mldv1', 'ip6.src == fe80::/10 && icmp6.type == {130, 131, 132}'),
    predicate('mldv2', 'ip6.dst == ff02::16 && icmp6.type == 143'),
    field('nd.target', 128, 'nd_target', {prereqs: 'nd', format: 'ipv6'}),
    field('nd.sll', 48, 'nd_sll', {prereqs: 'nd_ns', format: 'mac'}),
    field('nd.tll', 48, 'nd_tll', {prereqs: 'nd_na', format: 'mac'}),
  ]
}

function l4Fields(): LogicalSymbol[] {
  return [
    predicate('tcp', 'ip.proto == 6'),
    field('tcp.src', 16, 'tp_src', {prereqs: 'tcp'}),
    field('tcp.dst', 16, 'tp_dst', {prereqs: 'tcp'}),
    field('tcp.flags', 12, 'tcp_flags', {prereqs: 'tcp', writable: false, format: 'hex'}),
    predicate('udp', 'ip.proto == 17'),
    field('udp.src', 16, 'tp_src', {prereqs: 'udp'}),
    field('udp.dst', 16, 'tp_dst', {prereqs: 'udp'}),
    predicate('sctp', 'ip.proto == 132'),
    field('sctp.src', 16, 'tp_src', {prereqs: 'sctp'}),
    field('sctp.dst', 16, 'tp_dst', {prereqs: 'sctp'}),
  ]
}

/** The table ovn-controller uses (OVN 23.03), as documented in ovn-sb(5) and checked against the real compiler. */
export function ovnSymbolTable(): SymbolTable {
  const inport: FieldSymbol = {...field('inport', 32, 'reg14', {level: 'nominal'}), isString: true}
  const outport: FieldSymbol = {...field('outport', 32, 'reg15', {level: 'nominal'}), isString: true}
  return makeSymbolTable([
    ...registers(),
    inport,
    outport,
    field('flags', 32, 'reg10', {format: 'hex'}),
    ...flagBits.map(([name, bit]) => subfield(`flags.${name}`, 'flags', bit, bit)),
    field('pkt.mark', 32, 'pkt_mark', {format: 'hex'}),
    ...ctFields(),
    ...l2l3Fields(),
    ...l4Fields(),
  ])
}
