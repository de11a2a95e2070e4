/**
 * OpenFlow matches as values, printed and parsed in the text form `ovs-ofctl dump-flows` uses (ovs-fields(7),
 * ovs-ofctl(8) "Flow Syntax"): protocol shorthands (`tcp`, `ipv6`, `arp` ...) replace dl_type/nw_proto, fields come
 * in Open vSwitch's fixed order, wide registers are shown as 32-bit `regN`, integers exact in decimal or hex as
 * the switch prints them, masks as `/mask` or CIDR prefixes.
 */
import {ipv6Text} from './fields.js'

/** How a field's value is printed. */
type Notation = 'dec' | 'hex' | 'ipv4' | 'ipv6' | 'mac' | 'ct_state' | 'tcp_flags' | 'frag' | 'label'

interface FieldInfo {
  width: number
  notation: Notation
}

const fieldInfo: Record<string, FieldInfo> = {
  pkt_mark: {width: 32, notation: 'hex'},
  recirc_id: {width: 32, notation: 'hex'},
  dp_hash: {width: 32, notation: 'hex'},
  conj_id: {width: 32, notation: 'dec'},
  ct_state: {width: 8, notation: 'ct_state'},
  ct_zone: {width: 16, notation: 'hex'},
  ct_mark: {width: 32, notation: 'hex'},
  ct_label: {width: 128, notation: 'hex'},
  ct_nw_src: {width: 32, notation: 'ipv4'},
  ct_nw_dst: {width: 32, notation: 'ipv4'},
  ct_ipv6_src: {width: 128, notation: 'ipv6'},
  ct_ipv6_dst: {width: 128, notation: 'ipv6'},
  ct_nw_proto: {width: 8, notation: 'dec'},
  ct_tp_src: {width: 16, notation: 'dec'},
  ct_tp_dst: {width: 16, notation: 'dec'},
  ...Object.fromEntries(Array.from({length: 16}, (_, i) => [`reg${i}`, {width: 32, notation: 'hex' as const}])),
  // The tunnel key and OVN's Geneve option (4 bytes, mapped to tun_metadata0 by add-tlv-map).
  tun_id: {width: 64, notation: 'hex'},
  tun_metadata0: {width: 32, notation: 'hex'},
  metadata: {width: 64, notation: 'hex'},
  in_port: {width: 32, notation: 'dec'},
  vlan_tci: {width: 16, notation: 'hex'},
  dl_src: {width: 48, notation: 'mac'},
  dl_dst: {width: 48, notation: 'mac'},
  dl_type: {width: 16, notation: 'hex'},
  ipv6_src: {width: 128, notation: 'ipv6'},
  ipv6_dst: {width: 128, notation: 'ipv6'},
  ipv6_label: {width: 20, notation: 'label'},
  nw_src: {width: 32, notation: 'ipv4'},
  nw_dst: {width: 32, notation: 'ipv4'},
  arp_spa: {width: 32, notation: 'ipv4'},
  arp_tpa: {width: 32, notation: 'ipv4'},
  nw_proto: {width: 8, notation: 'dec'},
  arp_op: {width: 16, notation: 'dec'},
  arp_sha: {width: 48, notation: 'mac'},
  arp_tha: {width: 48, notation: 'mac'},
  ip_dscp: {width: 6, notation: 'dec'},
  nw_ecn: {width: 2, notation: 'dec'},
  nw_ttl: {width: 8, notation: 'dec'},
  nw_frag: {width: 2, notation: 'frag'},
  icmp_type: {width: 8, notation: 'dec'},
  icmp_code: {width: 8, notation: 'dec'},
  tp_src: {width: 16, notation: 'dec'},
  tp_dst: {width: 16, notation: 'dec'},
  nd_target: {width: 128, notation: 'ipv6'},
  nd_sll: {width: 48, notation: 'mac'},
  nd_tll: {width: 48, notation: 'mac'},
  tcp_flags: {width: 12, notation: 'tcp_flags'},
}

/** Print order of Open vSwitch's match formatter (lib/match.c order, observed with ovs-ofctl 3.1). */
const printOrder = [
  'pkt_mark', 'recirc_id', 'dp_hash', 'conj_id', 'ct_state', 'ct_zone', 'ct_mark', 'ct_label', 'ct_nw_src',
  'ct_nw_dst', 'ct_ipv6_src', 'ct_ipv6_dst', 'ct_nw_proto', 'ct_tp_src', 'ct_tp_dst', '*shorthand',
  ...Array.from({length: 16}, (_, i) => `reg${i}`), 'tun_id', 'tun_metadata0', 'metadata', 'in_port', 'vlan_tci', 'dl_src', 'dl_dst', 'dl_type',
  'ipv6_src', 'ipv6_dst', 'ipv6_label', 'nw_src', 'arp_spa', 'nw_dst', 'arp_tpa', 'nw_proto', 'arp_op', 'arp_sha',
  'arp_tha', 'ip_dscp', 'nw_ecn', 'nw_ttl', 'nw_frag', 'icmp_type', 'icmp_code', 'tp_src', 'tp_dst', 'nd_target',
  'nd_sll', 'nd_tll', 'tcp_flags',
]

/** One matched field: value with mask (all-ones mask means exact). */
export interface MatchField {
  value: bigint
  mask: bigint
}

/** A match: OpenFlow field name → masked value. Immutable by convention; use `withField`. */
export type Match = ReadonlyMap<string, MatchField>

/** Thrown when two constraints on one field contradict each other, or a field is unknown. */
export class MatchError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'MatchError'
  }
}

function fullMask(width: number): bigint {
  return (1n << BigInt(width)) - 1n
}

/** Splits wide register names into the 32-bit registers OpenFlow matches use (xxreg0 = reg0..reg3, reg0 high). */
function splitRegister(name: string, value: bigint, mask: bigint): Array<[string, bigint, bigint]> {
  const xx = /^xxreg(\d)$/.exec(name)
  const x = /^xreg(\d)$/.exec(name)
  if (!xx && !x) return [[name, value, mask]]
  const count = xx ? 4 : 2
  const first = xx ? Number(xx[1]) * 4 : Number((x as RegExpExecArray)[1]) * 2
  const out: Array<[string, bigint, bigint]> = []
  for (let i = 0; i < count; i++) {
    const shift = BigInt(32 * (count - 1 - i))
    const m = (mask >> shift) & 0xffffffffn
    if (m !== 0n) out.push([`reg${first + i}`, (value >> shift) & m, m])
  }
  return out
}

/** Adds `field & mask == value` to a match, combining with an existing constraint on the same field. */
export function withField(match: Match, field: string, value: bigint, mask?: bigint): Match {
  const out = new Map(match)
  const width = fieldWidth(field)
  for (const [name, v, m] of splitRegister(field, value, mask ?? fullMask(width))) {
    const info = fieldInfo[name]
    if (!info) throw new MatchError(`Unknown OpenFlow field "${name}"`)
    const old = out.get(name)
    if (old && ((old.value ^ v) & old.mask & m) !== 0n) {
      throw new MatchError(`Contradictory constraints on "${name}": ${old.value}/${old.mask} and ${v}/${m}`)
    }
    out.set(name, old ? {value: old.value | (v & m), mask: old.mask | m} : {value: v & m, mask: m})
  }
  return out
}

/** Width in bits of an OpenFlow field (including the wide registers). */
export function fieldWidth(field: string): number {
  if (/^xxreg\d$/.test(field)) return 128
  if (/^xreg\d$/.test(field)) return 64
  const info = fieldInfo[field]
  if (!info) throw new MatchError(`Unknown OpenFlow field "${field}"`)
  return info.width
}

const ipProtoNames: Record<number, string> = {1: 'icmp', 6: 'tcp', 17: 'udp', 132: 'sctp'}
const ip6ProtoNames: Record<number, string> = {58: 'icmp6', 6: 'tcp6', 17: 'udp6', 132: 'sctp6'}

/** The protocol keyword standing for dl_type (and nw_proto), and which fields it covers. */
function shorthand(m: Match): {word: string; covers: string[]} | undefined {
  const type = m.get('dl_type')
  const proto = m.get('nw_proto')
  const protoExact = proto && proto.mask === 0xffn ? Number(proto.value) : undefined
  if (!type || type.mask !== 0xffffn) return undefined
  switch (Number(type.value)) {
    case 0x800:
      if (protoExact !== undefined && ipProtoNames[protoExact]) return {word: ipProtoNames[protoExact], covers: ['dl_type', 'nw_proto']}
      return {word: 'ip', covers: ['dl_type']}
    case 0x86dd:
      if (protoExact !== undefined && ip6ProtoNames[protoExact]) return {word: ip6ProtoNames[protoExact], covers: ['dl_type', 'nw_proto']}
      return {word: 'ipv6', covers: ['dl_type']}
    case 0x806:
      return {word: 'arp', covers: ['dl_type']}
    case 0x8035:
      return {word: 'rarp', covers: ['dl_type']}
    default:
      return undefined
  }
}

const ctStateBits = ['new', 'est', 'rel', 'rpl', 'inv', 'trk', 'snat', 'dnat']
const tcpFlagBits = ['fin', 'syn', 'rst', 'psh', 'ack', 'urg', 'ece', 'cwr', 'ns']

function flagsText(names: string[], f: MatchField): string {
  return names.map((n, i) => ((f.mask >> BigInt(i)) & 1n ? ((f.value >> BigInt(i)) & 1n ? '+' : '-') + n : '')).join('')
}

function ipv4Text(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.')
}

function macText(v: bigint): string {
  return [40n, 32n, 24n, 16n, 8n, 0n].map((s) => ((v >> s) & 0xffn).toString(16).padStart(2, '0')).join(':')
}

function prefixLen(mask: bigint, width: number): number | undefined {
  const inv = fullMask(width) ^ mask
  if ((inv & (inv + 1n)) !== 0n) return undefined
  return width - (inv === 0n ? 0 : inv.toString(2).length)
}

function valueText(name: string, f: MatchField): string {
  const info = fieldInfo[name]
  const exact = f.mask === fullMask(info.width)
  switch (info.notation) {
    case 'ct_state':
      return flagsText(ctStateBits, f)
    case 'tcp_flags':
      return flagsText(tcpFlagBits, f)
    case 'frag':
      return fragText(f)
    case 'ipv4':
    case 'ipv6': {
      const text = info.notation === 'ipv4' ? ipv4Text : ipv6Text
      if (exact) return text(f.value)
      const len = prefixLen(f.mask, info.width)
      return len !== undefined ? `${text(f.value)}/${len}` : `${text(f.value)}/${text(f.mask)}`
    }
    case 'mac':
      return exact ? macText(f.value) : `${macText(f.value)}/${macText(f.mask)}`
    case 'label':
      return exact ? `0x${f.value.toString(16).padStart(5, '0')}` : `0x${f.value.toString(16).padStart(5, '0')}/0x${f.mask.toString(16).padStart(5, '0')}`
    case 'dec':
      return exact ? String(f.value) : `0x${f.value.toString(16)}/0x${f.mask.toString(16)}`
    case 'hex':
      if (name === 'dl_type') return `0x${f.value.toString(16).padStart(4, '0')}`
      return exact ? hexText(f.value) : `${hexText(f.value)}/${hexText(f.mask)}`
  }
}

/** Hex as Open vSwitch prints registers, metadata and marks, with C's "%#x": zero is a bare "0" (ports use "0x%x"). */
function hexText(v: bigint): string {
  return v === 0n ? '0' : `0x${v.toString(16)}`
}

function fragText(f: MatchField): string {
  // ovs-fields(7) nw_frag: bit 0 "is a fragment", bit 1 "is a later fragment".
  const key = `${f.value}/${f.mask}`
  const names: Record<string, string> = {'0/3': 'no', '1/3': 'first', '3/3': 'later', '1/1': 'yes', '0/1': 'no', '2/2': 'later', '0/2': 'not_later'}
  return names[key] ?? `0x${f.value.toString(16)}/0x${f.mask.toString(16)}`
}

/** Match text in `ovs-ofctl dump-flows` form, without priority. */
export function formatMatch(m: Match): string {
  return matchParts(m).join(',')
}

/**
 * The text of `m` plus a constraint on `field`, split where `field=VALUE` goes: [before, after]. A flow stamped on
 * many datapaths (differing only in metadata) is then formatted once. `m` must not constrain `field` itself.
 */
export function formatMatchAround(m: Match, field: string): [string, string] {
  if (m.has(field) || !printOrder.includes(field)) throw new MatchError(`Cannot leave a hole for field "${field}" in a match`)
  const parts = matchParts(m, field)
  const at = parts.indexOf(hole)
  return [parts.slice(0, at).join(','), parts.slice(at + 1).join(',')]
}

/** `formatMatchAround`'s two halves joined around `field=VALUE` (VALUE printed as formatMatch prints `field`). */
export function joinAround(around: readonly [string, string], field: string, value: bigint): string {
  return joinAt(around, fieldText(field, value))
}

/** `field=VALUE` for an exact VALUE, as formatMatch prints it (to join many matches around one value). */
export function fieldText(field: string, value: bigint): string {
  return `${field}=${valueText(field, {value, mask: fullMask(fieldInfo[field].width)})}`
}

/** `formatMatchAround`'s two halves joined around a `fieldText`. */
export function joinAt([before, after]: readonly [string, string], text: string): string {
  return `${before === '' ? '' : before + ','}${text}${after === '' ? '' : ',' + after}`
}

const hole = '\u0000'

function matchParts(m: Match, holeField?: string): string[] {
  const sh = shorthand(m)
  const parts: string[] = []
  const vlan = m.get('vlan_tci')
  for (const name of printOrder) {
    if (name === '*shorthand') {
      if (sh) parts.push(sh.word)
      continue
    }
    if (name === holeField) parts.push(hole)
    const f = m.get(name)
    if (!f || (sh && sh.covers.includes(name))) continue
    if (name === 'vlan_tci' && vlan && vlan.mask === 0x1fffn && (vlan.value & 0x1000n) !== 0n) {
      parts.push(`dl_vlan=${vlan.value & 0xfffn}`)
    } else if (name === 'ip_dscp') {
      // Open vSwitch shows DSCP as the TOS byte it occupies.
      parts.push(`nw_tos=${f.value << 2n}`)
    } else {
      parts.push(`${name}=${valueText(name, f)}`)
    }
  }
  return parts
}

const shorthandFields: Record<string, Array<[string, bigint]>> = {
  ip: [['dl_type', 0x800n]],
  ipv6: [['dl_type', 0x86ddn]],
  arp: [['dl_type', 0x806n]],
  rarp: [['dl_type', 0x8035n]],
  ...Object.fromEntries(Object.entries(ipProtoNames).map(([p, w]) => [w, [['dl_type', 0x800n], ['nw_proto', BigInt(p)]]])),
  ...Object.fromEntries(Object.entries(ip6ProtoNames).map(([p, w]) => [w, [['dl_type', 0x86ddn], ['nw_proto', BigInt(p)]]])),
}

/** Parses match text as `formatMatch` (and ovs-ofctl) writes it. */
export function parseMatchText(text: string): Match {
  let m: Match = new Map()
  if (text.trim() === '') return m
  for (const part of text.split(',')) {
    const [key, raw] = part.includes('=') ? [part.slice(0, part.indexOf('=')), part.slice(part.indexOf('=') + 1)] : [part, undefined]
    if (raw === undefined) {
      const fields = shorthandFields[key]
      if (!fields) throw new MatchError(`Unknown match keyword "${key}"`)
      for (const [f, v] of fields) m = withField(m, f, v)
      continue
    }
    if (key === 'dl_vlan') {
      m = withField(m, 'vlan_tci', 0x1000n | BigInt(raw), 0x1fffn)
    } else if (key === 'nw_tos') {
      m = withField(m, 'ip_dscp', BigInt(raw) >> 2n)
    } else {
      const {value, mask} = parseValue(key, raw)
      m = withField(m, key, value, mask)
    }
  }
  return m
}

function parseFlags(names: string[], raw: string): MatchField {
  let value = 0n
  let mask = 0n
  for (const m of raw.matchAll(/([+-])([a-z]+)/g)) {
    const bit = 1n << BigInt(names.indexOf(m[2]))
    if (names.indexOf(m[2]) < 0) throw new MatchError(`Unknown flag "${m[2]}"`)
    mask |= bit
    if (m[1] === '+') value |= bit
  }
  return {value, mask}
}

function parseScalar(notation: Notation, s: string): bigint {
  if (notation === 'ipv4' && s.includes('.')) return s.split('.').reduce((a, b) => (a << 8n) | BigInt(b), 0n)
  if (notation === 'mac') return BigInt('0x' + s.replaceAll(':', ''))
  if (notation === 'ipv6') {
    const [l, r] = s.includes('::') ? s.split('::') : [s, undefined]
    const lg = l ? l.split(':') : []
    const rg = r ? r.split(':') : []
    const groups = [...lg, ...Array(8 - lg.length - rg.length).fill('0'), ...rg]
    return groups.reduce((a: bigint, g: string) => (a << 16n) | BigInt('0x' + g), 0n)
  }
  return BigInt(s)
}

function parseValue(key: string, raw: string): {value: bigint; mask?: bigint} {
  const info = fieldInfo[key]
  if (!info) throw new MatchError(`Unknown OpenFlow field "${key}"`)
  if (info.notation === 'ct_state') return parseFlags(ctStateBits, raw)
  if (info.notation === 'tcp_flags') return parseFlags(tcpFlagBits, raw)
  if (info.notation === 'frag') {
    const named: Record<string, [bigint, bigint]> = {no: [0n, 3n], first: [1n, 3n], later: [3n, 3n], yes: [1n, 1n], not_later: [0n, 2n]}
    const [value, mask] = named[raw] ?? [0n, 0n]
    return {value, mask}
  }
  const slash = raw.indexOf('/')
  if (slash < 0) return {value: parseScalar(info.notation, raw)}
  const v = raw.slice(0, slash)
  const m = raw.slice(slash + 1)
  const isPrefix = (info.notation === 'ipv4' || info.notation === 'ipv6') && /^\d+$/.test(m)
  const mask = isPrefix ? fullMask(info.width) ^ fullMask(info.width - Number(m)) : parseScalar(info.notation, m)
  return {value: parseScalar(info.notation, v), mask}
}

/** Canonical identity of a match, for use as a map key. */
export function matchKey(m: Match): string {
  return formatMatch(m)
}
