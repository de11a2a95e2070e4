/**
 * Actions that involve ovn-controller itself or its lookup tables (ovn-sb(5) "arp", "nd_ns", "icmp4", "put_arp",
 * "get_arp", "lookup_arp", "get_fdb", "put_dhcp_opts", "log", "trigger_event" ...). Packet-building actions and
 * table updates become `controller(userdata=...)`: a 4-byte opcode, 4 zero bytes, then the opcode's data (nested
 * actions in OpenFlow 1.5 wire format, DHCP options ...). Lookups move their arguments into the registers the
 * lookup tables read, saving what they overwrite on the stack and restoring it after, and return a result bit
 * through reg10 (flags), as ovn-sb(5) and ovn-controller 23.03 do.
 */
import type {Action} from './actions.js'
import {logSeverities} from './actions.js'
import {pop, push, type Encoder} from './actions-encode.js'
import {encodeDhcpOptions, encodeDhcpv6Options} from './dhcp-options.js'
import {encodeNdRaOptions} from './nd-ra-options.js'
import {EncodeError} from './errors.js'
import type {FieldRef} from './expr.js'
import {ByteWriter, controllerUserdata, encodeOfActions, type OfAction} from '../openflow/actions.js'
import {fieldHeader, sameSubfield, type OfSubfield} from '../openflow/fields.js'

/** Controller opcodes (ovn-controller's `enum action_opcode`, values observed in 23.03 userdata). */
export const opcodes = {
  arp: 0, put_arp: 1, put_dhcp_opts: 2, nd_na: 3, put_nd: 4, put_dhcpv6_opts: 5, dns_lookup: 6, log: 7,
  put_nd_ra_opts: 8, nd_ns: 9, icmp: 10, tcp_reset: 11, nd_na_router: 12, put_icmp4_frag_mtu: 13,
  icmp4_error: 14, event: 15, igmp: 16, bind_vport: 17, handle_svc_check: 18, handle_dhcpv6_reply: 19,
  icmp6_error: 20, put_icmp6_frag_mtu: 21, reject: 22, sctp_abort: 24, put_fdb: 25,
} as const

const nestedOpcodes: Partial<Record<string, number>> = {
  arp: opcodes.arp, nd_ns: opcodes.nd_ns, nd_na: opcodes.nd_na, nd_na_router: opcodes.nd_na_router,
  icmp4: opcodes.icmp, icmp6: opcodes.icmp, icmp4_error: opcodes.icmp4_error, icmp6_error: opcodes.icmp6_error,
  tcp_reset: opcodes.tcp_reset, sctp_abort: opcodes.sctp_abort, reject: opcodes.reject,
}

const sub = (field: string, lo: number, hi: number): OfSubfield => ({field, lo, hi})
const reg = (n: number): OfSubfield => sub(`reg${n}`, 0, 31)
const inport = reg(14)
const outport = reg(15)
const ethSrc = sub('eth_src', 0, 47)
const ethDst = sub('eth_dst', 0, 47)
const xxreg0 = sub('xxreg0', 0, 127)
const flagBit = (bit: number): OfSubfield => sub('reg10', bit, bit)

/** Result bits of the lookup actions in reg10 (ovn's MLF_*_BIT flags). */
const resultBits = {lookupMac: 6, lbHairpin: 7, lookupFdb: 8, portSec: 12, ecmpNh: 13, lbAffinity: 14}

/** Event types and option codes of trigger_event (ovn-sb(5) Controller_Event, as 23.03 encodes them). */
const events: Record<string, {id: number; options: Record<string, number>}> = {
  empty_lb_backends: {id: 0, options: {vip: 1, protocol: 2, load_balancer: 3}},
}

const utf8 = new TextEncoder()

/**
 * Saves the registers the arguments go to, loads the arguments through the stack, runs `body`, and restores the
 * registers (arguments already in place are left alone).
 */
function withArgs(args: Array<{src: OfSubfield; dst: OfSubfield}>, body: OfAction[]): OfAction[] {
  const moving = args.filter((a) => !sameSubfield(a.src, a.dst))
  return [
    ...moving.map((a) => push(a.dst)),
    ...[...moving].reverse().map((a) => push(a.src)),
    ...moving.map((a) => pop(a.dst)),
    ...body,
    ...[...moving].reverse().map((a) => pop(a.dst)),
  ]
}

/** Clears a reg10 result bit, resubmits to a lookup table and copies the bit to the destination. */
function lookupResult(bit: number, table: number, dst: OfSubfield): OfAction[] {
  return [
    {type: 'set_field', field: 'reg10', value: 0n, mask: 1n << BigInt(bit)},
    {type: 'resubmit', table},
    {type: 'move', src: flagBit(bit), dst},
  ]
}

function controller(opcode: number, body?: Uint8Array, extra: {pause?: boolean; meterId?: number} = {}): OfAction {
  return {type: 'controller', userdata: controllerUserdata(opcode, body), ...extra}
}

function ipArg(name: string): OfSubfield {
  return name.endsWith('_nd') || name.endsWith('_nd_ip') ? xxreg0 : reg(0)
}

/** The result field's header (OpenFlow 1.5 preference) and bit offset, as DHCP and DNS userdata start. */
function resultHeader(enc: Encoder, dst: FieldRef): Uint8Array {
  const r = enc.field(dst).of
  const w = new ByteWriter()
  w.u32(fieldHeader(r.field, 'oxm')).u32(r.lo)
  return w.bytes()
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]))
}

/** Encodes one action of this family. */
export function encodeControllerAction(a: Action, enc: Encoder): OfAction[] {
  const f = (ref: FieldRef): OfSubfield => enc.field(ref).of
  const t = enc.tables
  switch (a.type) {
    case 'nested':
      return encodeNested(a, enc)
    case 'get_mac':
      return withArgs([{src: f(a.port), dst: outport}, {src: f(a.ip), dst: ipArg(a.name)}], [
        {type: 'set_field', field: 'eth_dst', value: 0n},
        {type: 'resubmit', table: t.macBinding},
      ])
    case 'put_mac':
      return withArgs([{src: f(a.port), dst: inport}, {src: f(a.ip), dst: ipArg(a.name)}, {src: f(a.mac), dst: ethSrc}], [
        controller(a.name === 'put_arp' ? opcodes.put_arp : opcodes.put_nd),
      ])
    case 'lookup_mac':
      return withArgs([{src: f(a.port), dst: inport}, {src: f(a.ip), dst: ipArg(a.name)}, {src: f(a.mac), dst: ethSrc}],
        lookupResult(resultBits.lookupMac, t.macLookup, f(a.dst)))
    case 'lookup_mac_ip':
      return withArgs([{src: f(a.port), dst: outport}, {src: f(a.ip), dst: ipArg(a.name)}], [
        push(ethDst),
        ...lookupResult(resultBits.lookupMac, t.macBinding, f(a.dst)),
        pop(ethDst),
      ])
    case 'get_fdb': {
      const dst = f(a.dst)
      const body: OfAction[] = [{type: 'set_field', field: 'reg15', value: 0n}, {type: 'resubmit', table: t.getFdb}]
      if (!sameSubfield(dst, outport)) body.push({type: 'move', src: outport, dst})
      return withArgs([{src: f(a.mac), dst: ethDst}], body)
    }
    case 'put_fdb':
      return withArgs([{src: f(a.port), dst: inport}, {src: f(a.mac), dst: ethSrc}], [controller(opcodes.put_fdb)])
    case 'lookup_fdb':
      return withArgs([{src: f(a.port), dst: inport}, {src: f(a.mac), dst: ethSrc}], lookupResult(resultBits.lookupFdb, t.lookupFdb, f(a.dst)))
    case 'result':
      return encodeResult(a, enc)
    case 'put_opts':
      return [encodePutOpts(a, enc)]
    case 'log':
      return [encodeLog(a, enc)]
    case 'trigger_event':
      return [encodeEvent(a, enc)]
    case 'controller_op':
      return [controller(opcodes[a.name])]
    case 'bind_vport': {
      const w = new ByteWriter()
      w.u32(enc.portKey(a.vport))
      return withArgs([{src: f(a.port), dst: inport}], [controller(opcodes.bind_vport, w.bytes())])
    }
    case 'handle_svc_check':
      return withArgs([{src: f(a.port), dst: inport}], [controller(opcodes.handle_svc_check)])
    case 'ovn_field': {
      // The MTU is 16 bits for ICMPv4 (RFC 1191) but a 32-bit field of ICMPv6 "packet too big" (RFC 4443 §3.2).
      const w = new ByteWriter()
      if (a.name === 'icmp4.frag_mtu') w.u16(a.value)
      else w.u32(a.value)
      return [controller(a.name === 'icmp4.frag_mtu' ? opcodes.put_icmp4_frag_mtu : opcodes.put_icmp6_frag_mtu, w.bytes(), {pause: true})]
    }
    case 'commit_ecmp_nh':
      return commitEcmpNh(a, t.ecmpNhMac, t.ecmpNh)
    default:
      throw new EncodeError(`Cannot encode action "${a.type}"`)
  }
}

function encodeNested(a: Extract<Action, {type: 'nested'}>, enc: Encoder): OfAction[] {
  const inner = enc.encodeList(a.actions)
  if (a.name === 'clone') return [{type: 'clone', actions: inner}]
  const opcode = nestedOpcodes[a.name]
  if (opcode === undefined) throw new EncodeError(`Cannot encode "${a.name}": its controller opcode is not known`)
  try {
    return [controller(opcode, encodeOfActions(inner))]
  } catch (e) {
    throw new EncodeError(`Cannot encode "${a.name} { ... }": ${(e as Error).message}`)
  }
}

function encodeResult(a: Extract<Action, {type: 'result'}>, enc: Encoder): OfAction[] {
  const dst = enc.field(a.dst).of
  const t = enc.tables
  switch (a.name) {
    case 'chk_lb_hairpin':
      return lookupResult(resultBits.lbHairpin, t.chkLbHairpin, dst)
    case 'chk_lb_hairpin_reply':
      return lookupResult(resultBits.lbHairpin, t.chkLbHairpinReply, dst)
    case 'check_in_port_sec':
      return lookupResult(resultBits.portSec, t.chkInPortSec, dst)
    case 'check_out_port_sec':
      return lookupResult(resultBits.portSec, t.chkOutPortSec, dst)
    case 'chk_ecmp_nh_mac':
      return lookupResult(resultBits.ecmpNh, t.ecmpNhMac, dst)
    case 'chk_ecmp_nh':
      return lookupResult(resultBits.ecmpNh, t.ecmpNh, dst)
    case 'chk_lb_aff':
      return lookupResult(resultBits.lbAffinity, t.chkLbAffinity, dst)
    case 'dns_lookup':
      return [controller(opcodes.dns_lookup, resultHeader(enc, a.dst), {pause: true})]
  }
}

function encodePutOpts(a: Extract<Action, {type: 'put_opts'}>, enc: Encoder): OfAction {
  const head = resultHeader(enc, a.dst)
  switch (a.name) {
    case 'put_dhcp_opts':
      return controller(opcodes.put_dhcp_opts, concat(head, encodeDhcpOptions(a.options, enc.ctx.dhcpOptions)), {pause: true})
    case 'put_dhcpv6_opts':
      return controller(opcodes.put_dhcpv6_opts, concat(head, encodeDhcpv6Options(a.options, enc.ctx.dhcpv6Options)), {pause: true})
    case 'put_nd_ra_opts':
      return controller(opcodes.put_nd_ra_opts, concat(head, encodeNdRaOptions(a.options)), {pause: true})
  }
}

const verdicts = {allow: 0, drop: 1, reject: 2}

function encodeLog(a: Extract<Action, {type: 'log'}>, enc: Encoder): OfAction {
  const w = new ByteWriter()
  w.u8(verdicts[a.verdict ?? 'allow']).u8(logSeverities[a.severity ?? 'info'])
  if (a.name !== undefined) w.raw(utf8.encode(a.name))
  return controller(opcodes.log, w.bytes(), {meterId: a.meter === undefined ? undefined : enc.meterByName(a.meter)})
}

function encodeEvent(a: Extract<Action, {type: 'trigger_event'}>, enc: Encoder): OfAction {
  const event = events[a.event]
  if (!event) throw new EncodeError(`Unknown event "${a.event}"`)
  const w = new ByteWriter()
  w.u32(event.id)
  for (const [key, value] of a.options) {
    const code = event.options[key]
    if (code === undefined) throw new EncodeError(`Unknown option "${key}" for event "${a.event}"`)
    const bytes = utf8.encode(value)
    w.u16(code).u16(bytes.length).raw(bytes)
  }
  return controller(opcodes.event, w.bytes(), {meterId: a.meter === undefined ? undefined : enc.meterByName(a.meter)})
}

/**
 * commit_ecmp_nh: two learn() actions (ovs-actions(7) "learn") that remember, for 20 s idle / 30 s hard, the
 * next hop's MAC of the connection (table ecmpNhMac) and the connection's reply direction (table ecmpNh); a hit
 * sets reg10[13], which chk_ecmp_nh_mac() and chk_ecmp_nh() read.
 */
function commitEcmpNh(a: Extract<Action, {type: 'commit_ecmp_nh'}>, macTable: number, nhTable: number): OfAction[] {
  const [src, dst, ethType] = a.ipv6 ? ['NXM_NX_IPV6_SRC[]', 'NXM_NX_IPV6_DST[]', '0x86dd'] : ['NXM_OF_IP_SRC[]', 'NXM_OF_IP_DST[]', '0x800']
  const protos = {tcp: [6, 'NXM_OF_TCP'], udp: [17, 'NXM_OF_UDP'], sctp: [132, 'OXM_OF_SCTP']} as const
  const [proto, l4] = protos[a.proto]
  const common = 'idle_timeout=20,hard_timeout=30,delete_learned,OXM_OF_METADATA[]'
  const load = 'load:0x1->NXM_NX_REG10[13]'
  return [
    {type: 'learn', text: `learn(table=${macTable},${common},NXM_OF_ETH_SRC[],eth_type=${ethType},${src},${dst},nw_proto=${proto},${l4}_SRC[],${l4}_DST[],${load})`},
    {type: 'learn', text: `learn(table=${nhTable},${common},eth_type=${ethType},${src}=${dst},${dst}=${src},nw_proto=${proto},${l4}_SRC[]=${l4}_DST[],${l4}_DST[]=${l4}_SRC[],${load})`},
  ]
}
