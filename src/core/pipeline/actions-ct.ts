/**
 * Connection tracking actions (ovn-sb(5) "ct_next", "ct_commit", "ct_dnat", "ct_snat", "*_in_czone",
 * "ct_commit_nat", "ct_lb", "ct_lb_mark", "ct_clear") to the OpenFlow `ct` action (ovs-actions(7) "ct"). Zones:
 * a switch's conntrack zone is in reg13, DNAT and the common NAT zone in reg11, SNAT in reg12 (ovn-architecture(7)
 * "logical router ... zones"); a router's plain conntrack uses its DNAT zone, as ovn-controller 23.03 does.
 * ct_lb with backends becomes a select group whose buckets commit and DNAT to one backend each and set the
 * `natted` bit (0x2) of ct_label (ct_lb) or ct_mark (ct_lb_mark).
 */
import type {Action, Backend} from './actions.js'
import {ipText} from './actions.js'
import type {Encoder} from './actions-encode.js'
import {EncodeError} from './errors.js'
import {formatOfAction, type OfAction} from '../openflow/actions.js'
import type {OfSubfield} from '../openflow/fields.js'

const zone = (reg: number): OfSubfield => ({field: `reg${reg}`, lo: 0, hi: 15})
const ctZone = zone(13)
const dnatZone = zone(11)
const snatZone = zone(12)

/** ct_label/ct_mark bit of each ct_lb flag (ovn-sb(5) symbols ct_label.natted, .skip_snat, .force_snat). */
const flagBits = {natted: 0x2n, skip_snat: 0x4n, force_snat: 0x8n}

/** Fields ovs-ofctl accepts in a select group's `fields(...)`, in the order Open vSwitch prints them. */
const hashFieldOrder = ['eth_src', 'eth_dst', 'ip_src', 'ip_dst', 'ipv6_src', 'ipv6_dst', 'tcp_src', 'tcp_dst', 'udp_src', 'udp_dst', 'sctp_src', 'sctp_dst']

function natTarget(a: Extract<Action, {type: 'ct_nat'}>): string {
  const dir = a.name.startsWith('ct_dnat') ? 'dst' : 'src'
  if (!a.ip) return ''
  const ports = a.ports ? (a.ports[0] === a.ports[1] ? `${a.ports[0]}` : `${a.ports[0]}-${a.ports[1]}`) : undefined
  const ip = ipText(a.ip)
  if (ports === undefined) return `${dir}=${ip}`
  return a.ip.format === 'ipv6' ? `${dir}=[${ip}]:${ports}` : `${dir}=${ip}:${ports}`
}

function backendTarget(b: Backend): string {
  const ip = ipText(b.ip)
  if (b.port === undefined) return `dst=${ip}`
  return b.ip.format === 'ipv6' ? `dst=[${ip}]:${b.port}` : `dst=${ip}:${b.port}`
}

/** Encodes one connection tracking action. */
export function encodeCtAction(a: Action, enc: Encoder): OfAction[] {
  const plainZone = enc.ctx.datapath === 'switch' ? ctZone : dnatZone
  switch (a.type) {
    case 'ct_next':
      return [{type: 'ct', table: enc.nextTable(), zone: plainZone}]
    case 'ct_clear':
      return [{type: 'ct_clear'}]
    case 'ct_commit_nat':
      return [{type: 'ct', commit: true, table: enc.nextTable(), zone: plainZone, nat: ''}]
    case 'ct_commit': {
      const exec = a.actions.map((x) => ctExec(x, enc))
      // ovn-controller 23.03 commits with nat(src) so that a later NAT of the connection is kept.
      return [{type: 'ct', commit: true, zone: plainZone, nat: 'src', exec}]
    }
    case 'ct_nat': {
      const z = a.name === 'ct_snat' ? snatZone : dnatZone
      if (!a.ip) return [{type: 'ct', table: enc.nextTable(), zone: z, nat: ''}]
      return [{type: 'ct', commit: true, table: enc.nextTable(), zone: z, nat: natTarget(a)}]
    }
    case 'ct_lb':
      return ctLb(a, enc, plainZone)
    default:
      throw new EncodeError(`Not a connection tracking action: ${a.type}`)
  }
}

function ctExec(a: Action, enc: Encoder): OfAction {
  if (a.type === 'load') return enc.load(enc.field(a.dst), a.value)
  if (a.type === 'move') return {type: 'move', src: enc.field(a.src).of, dst: enc.field(a.dst).of}
  throw new EncodeError(`Cannot encode ${a.type} inside ct_commit`)
}

function ctLb(a: Extract<Action, {type: 'ct_lb'}>, enc: Encoder, z: OfSubfield): OfAction[] {
  const next = enc.nextTable()
  if (!a.backends) return [{type: 'ct', table: next, zone: z, nat: ''}]
  const field = a.mark ? 'ct_mark' : 'ct_label'
  const bits = [flagBits.natted, ...(a.ctFlag ? [flagBits[a.ctFlag]] : [])]
  const exec: OfAction[] = bits.map((b) => ({type: 'set_field', field, value: b, mask: b}))
  const buckets = a.backends.map((b, i) => {
    const ct: OfAction = {type: 'ct', commit: true, table: next, zone: z, nat: backendTarget(b), exec}
    return `bucket=bucket_id:${i},weight:100,actions=${formatOfAction(ct)}`
  })
  let method = 'selection_method=dp_hash'
  if (a.hashFields) {
    const unknown = a.hashFields.find((f) => !hashFieldOrder.includes(f))
    if (unknown !== undefined) throw new EncodeError(`Unknown hash field "${unknown}" in ${a.mark ? 'ct_lb_mark' : 'ct_lb'}`)
    const fields = hashFieldOrder.filter((f) => a.hashFields?.includes(f))
    method = `selection_method=hash,${fields.length === 1 ? `fields=${fields[0]}` : `fields(${fields.join(',')})`}`
  }
  return [{type: 'group', id: enc.group(`type=select,${method},${buckets.join(',')}`)}]
}
