/**
 * The OpenFlow fields that actions write and read, as Open vSwitch names and encodes them (ovs-fields(7)): the
 * `set_field` name, the NXM/OXM name used in `move`, `push` and `pop`, the width, the value notation and the
 * two wire headers. Open vSwitch encodes an OpenFlow 1.5 `set_field` or `copy_field` with the OXM header when one
 * exists (OpenFlow 1.5 §7.2.3.7), but the Nicira stack actions with the NXM header when one exists; both were
 * checked against the bytes ovn-controller 23.03 puts in its controller actions.
 */

/** How `ovs-ofctl` prints a value of the field. */
export type FieldNotation = 'dec' | 'hex' | 'ipv4' | 'ipv6' | 'mac'

/** One OpenFlow field. */
export interface OfField {
  /** Name in `set_field:V->name` (ovs-ofctl canonical). */
  name: string
  /** Name in `move:NAME[]->...` (ovs-ofctl canonical). */
  nxmName: string
  /** Width in bits. */
  bits: number
  /** Width on the wire in bytes. */
  bytes: number
  notation: FieldNotation
  /** NXM header class and field, when the field has one. */
  nxm?: [number, number]
  /** OXM header class and field, when the field has one. */
  oxm?: [number, number]
  /** False for fields ovs-ofctl refuses a mask on in set_field text (ovs-fields(7) "Maskable: no"). */
  maskable: boolean
}

const catalogue: OfField[] = []
const unmaskable = new Set(['ip_dscp', 'nw_ecn', 'nw_ttl', 'ip_proto', 'arp_op', 'icmp_type', 'icmp_code', 'icmpv6_type', 'icmpv6_code', 'in_port'])

function add(name: string, nxmName: string, bits: number, notation: FieldNotation, nxm?: [number, number], oxm?: [number, number], bytes?: number): void {
  catalogue.push({name, nxmName, bits, bytes: bytes ?? Math.ceil(bits / 8), notation, nxm, oxm, maskable: !unmaskable.has(name)})
}

const basic = 0x8000
add('in_port', 'NXM_OF_IN_PORT', 16, 'dec', [0, 0])
add('eth_dst', 'NXM_OF_ETH_DST', 48, 'mac', [0, 1], [basic, 3])
add('eth_src', 'NXM_OF_ETH_SRC', 48, 'mac', [0, 2], [basic, 4])
add('eth_type', 'NXM_OF_ETH_TYPE', 16, 'hex', [0, 3], [basic, 5])
add('vlan_tci', 'NXM_OF_VLAN_TCI', 16, 'hex', [0, 4])
add('ip_proto', 'NXM_OF_IP_PROTO', 8, 'dec', [0, 6], [basic, 10])
add('ip_src', 'NXM_OF_IP_SRC', 32, 'ipv4', [0, 7], [basic, 11])
add('ip_dst', 'NXM_OF_IP_DST', 32, 'ipv4', [0, 8], [basic, 12])
add('tcp_src', 'NXM_OF_TCP_SRC', 16, 'dec', [0, 9], [basic, 13])
add('tcp_dst', 'NXM_OF_TCP_DST', 16, 'dec', [0, 10], [basic, 14])
add('udp_src', 'NXM_OF_UDP_SRC', 16, 'dec', [0, 11], [basic, 15])
add('udp_dst', 'NXM_OF_UDP_DST', 16, 'dec', [0, 12], [basic, 16])
add('sctp_src', 'OXM_OF_SCTP_SRC', 16, 'dec', undefined, [basic, 17])
add('sctp_dst', 'OXM_OF_SCTP_DST', 16, 'dec', undefined, [basic, 18])
add('icmp_type', 'NXM_OF_ICMP_TYPE', 8, 'dec', [0, 13], [basic, 19])
add('icmp_code', 'NXM_OF_ICMP_CODE', 8, 'dec', [0, 14], [basic, 20])
add('arp_op', 'NXM_OF_ARP_OP', 16, 'dec', [0, 15], [basic, 21])
add('arp_spa', 'NXM_OF_ARP_SPA', 32, 'ipv4', [0, 16], [basic, 22])
add('arp_tpa', 'NXM_OF_ARP_TPA', 32, 'ipv4', [0, 17], [basic, 23])
add('arp_sha', 'NXM_NX_ARP_SHA', 48, 'mac', [1, 17], [basic, 24])
add('arp_tha', 'NXM_NX_ARP_THA', 48, 'mac', [1, 18], [basic, 25])
add('ipv6_src', 'NXM_NX_IPV6_SRC', 128, 'ipv6', [1, 19], [basic, 26])
add('ipv6_dst', 'NXM_NX_IPV6_DST', 128, 'ipv6', [1, 20], [basic, 27])
add('ipv6_label', 'NXM_NX_IPV6_LABEL', 20, 'hex', [1, 27], [basic, 28], 4)
add('icmpv6_type', 'NXM_NX_ICMPV6_TYPE', 8, 'dec', [1, 21], [basic, 29])
add('icmpv6_code', 'NXM_NX_ICMPV6_CODE', 8, 'dec', [1, 22], [basic, 30])
add('nd_target', 'NXM_NX_ND_TARGET', 128, 'ipv6', [1, 23], [basic, 31])
add('nd_sll', 'NXM_NX_ND_SLL', 48, 'mac', [1, 24], [basic, 32])
add('nd_tll', 'NXM_NX_ND_TLL', 48, 'mac', [1, 25], [basic, 33])
// OVN's ip.dscp is the 6-bit DSCP value (ovs-fields(7) "ip_dscp", OXM_OF_IP_DSCP), one byte on the wire.
add('ip_dscp', 'OXM_OF_IP_DSCP', 6, 'dec', undefined, [basic, 8], 1)
add('nw_ecn', 'NXM_NX_IP_ECN', 2, 'dec', [1, 28], [basic, 9], 1)
add('nw_ttl', 'NXM_NX_IP_TTL', 8, 'dec', [1, 29])
add('pkt_mark', 'NXM_NX_PKT_MARK', 32, 'hex', [1, 33])
add('tcp_flags', 'NXM_NX_TCP_FLAGS', 12, 'hex', [1, 34], undefined, 2)
add('ct_state', 'NXM_NX_CT_STATE', 32, 'hex', [1, 105])
add('ct_zone', 'NXM_NX_CT_ZONE', 16, 'hex', [1, 106])
add('ct_mark', 'NXM_NX_CT_MARK', 32, 'hex', [1, 107])
add('ct_label', 'NXM_NX_CT_LABEL', 128, 'hex', [1, 108])
add('ct_nw_proto', 'NXM_NX_CT_NW_PROTO', 8, 'dec', [1, 119])
add('ct_nw_src', 'NXM_NX_CT_NW_SRC', 32, 'ipv4', [1, 120])
add('ct_nw_dst', 'NXM_NX_CT_NW_DST', 32, 'ipv4', [1, 121])
add('ct_ipv6_src', 'NXM_NX_CT_IPV6_SRC', 128, 'ipv6', [1, 122])
add('ct_ipv6_dst', 'NXM_NX_CT_IPV6_DST', 128, 'ipv6', [1, 123])
add('ct_tp_src', 'NXM_NX_CT_TP_SRC', 16, 'dec', [1, 124])
add('ct_tp_dst', 'NXM_NX_CT_TP_DST', 16, 'dec', [1, 125])
add('metadata', 'OXM_OF_METADATA', 64, 'hex', undefined, [basic, 2])
for (let i = 0; i < 16; i++) add(`reg${i}`, `NXM_NX_REG${i}`, 32, 'hex', [1, i])
for (let i = 0; i < 8; i++) add(`xreg${i}`, `OXM_OF_PKT_REG${i}`, 64, 'hex', undefined, [0x8001, i])
for (let i = 0; i < 8; i++) add(`xxreg${i}`, `NXM_NX_XXREG${i}`, 128, 'hex', [1, 111 + i])

const byName = new Map(catalogue.map((f) => [f.name, f]))
const byNxmName = new Map(catalogue.map((f) => [f.nxmName, f]))

/** Ovs-ofctl match names that differ from the set_field names (the match module uses the former). */
const matchAliases: Record<string, string> = {dl_src: 'eth_src', dl_dst: 'eth_dst', dl_type: 'eth_type', nw_src: 'ip_src', nw_dst: 'ip_dst', nw_proto: 'ip_proto', ct_nw_proto: 'ct_nw_proto'}

/** The field named `name` (set_field or match spelling); throws when unknown, a programming error. */
export function ofField(name: string): OfField {
  const f = byName.get(matchAliases[name] ?? name)
  if (!f) throw new Error(`Unknown OpenFlow field "${name}"`)
  return f
}

/** The field whose NXM/OXM name is `nxmName`, or undefined. */
export function ofFieldByNxmName(nxmName: string): OfField | undefined {
  return byNxmName.get(nxmName)
}

/** A bit range of an OpenFlow field, as `move` and `push` name it: `NXM_NX_XXREG0[96..127]`. */
export interface OfSubfield {
  field: string
  lo: number
  hi: number
}

/** Text of a subfield as ovs-ofctl prints it: `NAME[]` for the whole field, `NAME[n]` or `NAME[lo..hi]`. */
export function formatSubfield(s: OfSubfield): string {
  const f = ofField(s.field)
  if (s.lo === 0 && s.hi === f.bits - 1) return `${f.nxmName}[]`
  return s.lo === s.hi ? `${f.nxmName}[${s.lo}]` : `${f.nxmName}[${s.lo}..${s.hi}]`
}

/** True when two subfields name the same bits of the same field. */
export function sameSubfield(a: OfSubfield, b: OfSubfield): boolean {
  return ofField(a.field) === ofField(b.field) && a.lo === b.lo && a.hi === b.hi
}

function ipv4Text(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.')
}

function macText(v: bigint): string {
  return [40n, 32n, 24n, 16n, 8n, 0n].map((s) => ((v >> s) & 0xffn).toString(16).padStart(2, '0')).join(':')
}

/** RFC 5952 text of a 128-bit address. */
export function ipv6Text(v: bigint): string {
  const groups = Array.from({length: 8}, (_, i) => Number((v >> BigInt(112 - 16 * i)) & 0xffffn))
  let best = -1
  let bestLen = 1
  for (let i = 0; i < 8; i++) {
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen) [best, bestLen] = [i, j - i]
  }
  const hex = groups.map((g) => g.toString(16))
  return best < 0 ? hex.join(':') : `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`
}

function prefixLength(mask: bigint, bits: number): number | undefined {
  const inv = ((1n << BigInt(bits)) - 1n) ^ mask
  if ((inv & (inv + 1n)) !== 0n) return undefined
  return bits - (inv === 0n ? 0 : inv.toString(2).length)
}

function scalarText(notation: FieldNotation, v: bigint): string {
  switch (notation) {
    case 'ipv4':
      return ipv4Text(v)
    case 'ipv6':
      return ipv6Text(v)
    case 'mac':
      return macText(v)
    case 'dec':
      return v.toString()
    case 'hex':
      return v === 0n ? '0' : '0x' + v.toString(16)
  }
}

/** The full mask of a field as set_field sees it: all the bits of its bytes on the wire. */
export function wireMask(f: OfField): bigint {
  return (1n << BigInt(f.bytes * 8)) - 1n
}

/**
 * Text of `set_field:VALUE[/MASK]->name` as ovs-ofctl prints it: a mask shows unless it covers every byte of the
 * field, addresses use CIDR when the mask is a prefix, decimal fields print their mask in hex. One deliberate
 * difference: ovs-ofctl dump-flows shows a full-width write of the unmaskable 6-bit ip_dscp or 2-bit nw_ecn as
 * `10/0x3f`, which ovs-ofctl itself then refuses to parse; we print the equivalent `10`.
 */
export function formatSetField(name: string, value: bigint, mask?: bigint): string {
  const f = ofField(name)
  const m = mask ?? (1n << BigInt(f.bits)) - 1n
  const v = scalarText(f.notation, value & m)
  if (m === wireMask(f) || (!f.maskable && m === (1n << BigInt(f.bits)) - 1n)) return `set_field:${v}->${f.name}`
  if (!f.maskable) throw new Error(`Field "${f.name}" cannot be written partially`)
  if (f.notation === 'ipv4' || f.notation === 'ipv6') {
    const len = prefixLength(m, f.bits)
    return `set_field:${v}/${len ?? scalarText(f.notation, m)}->${f.name}`
  }
  const maskText = f.notation === 'mac' ? macText(m) : '0x' + m.toString(16)
  return `set_field:${v}/${maskText}->${f.name}`
}

/** Wire header of the field, in the OpenFlow 1.5 preference (OXM first) or the NXM preference (NXM first). */
export function fieldHeader(name: string, prefer: 'oxm' | 'nxm', masked = false): number {
  const f = ofField(name)
  const [cls, field] = (prefer === 'oxm' ? (f.oxm ?? f.nxm) : (f.nxm ?? f.oxm)) as [number, number]
  const length = masked ? f.bytes * 2 : f.bytes
  return ((cls << 16) | (field << 9) | (masked ? 0x100 : 0) | length) >>> 0
}
