/**
 * Logical flow actions as values (ovn-sb(5) Logical_Flow "actions"), with their canonical text. Printing follows
 * ovn-controller's own formatter (what `ovn-trace` and `ovnctl actions-to-flows --stage parse` show): one action
 * per `;`, a space after each `;`, nested actions in `{ ... }`, constants in the notation they were written in.
 */
import {formatFieldRef, formatInt, formatMasked, type Constant, type FieldRef} from './expr.js'

/** `ingress` or `egress` (ovn-sb(5) Logical_Flow "pipeline"). */
export type Pipeline = 'ingress' | 'egress'

/** Actions that wrap nested actions run on a copy or a synthesized packet. */
export const nestedActionNames = ['clone', 'arp', 'nd_ns', 'nd_na', 'nd_na_router', 'icmp4', 'icmp4_error', 'icmp6', 'icmp6_error', 'tcp_reset', 'sctp_abort', 'reject'] as const

/** Name of a nesting action. */
export type NestedName = (typeof nestedActionNames)[number]

/** NAT actions and the zone they use. */
export type NatName = 'ct_dnat' | 'ct_snat' | 'ct_dnat_in_czone' | 'ct_snat_in_czone'

/** Actions whose only operand is the 1-bit result `R = name();`. */
export const resultActionNames = ['chk_lb_hairpin', 'chk_lb_hairpin_reply', 'check_in_port_sec', 'check_out_port_sec', 'chk_ecmp_nh_mac', 'chk_ecmp_nh', 'dns_lookup', 'chk_lb_aff'] as const

/** Name of a result-only action. */
export type ResultName = (typeof resultActionNames)[number]

/** An IP address written in an action (IPv4 or IPv6). */
export interface IpConstant {
  value: bigint
  format: 'ipv4' | 'ipv6'
}

/** A load balancer backend `ip[:port]`. */
export interface Backend {
  ip: IpConstant
  port?: number
}

/** One `name = value` option of put_dhcp_opts and friends: a constant or a `{...}` set of constants. */
export interface OptionValue {
  name: string
  values: Constant[]
  isSet: boolean
}

/** One action. */
export type Action =
  | {type: 'next'; pipeline?: Pipeline; table?: number}
  | {type: 'output'}
  | {type: 'drop'}
  | {type: 'load'; dst: FieldRef; value: Constant}
  | {type: 'move'; dst: FieldRef; src: FieldRef}
  | {type: 'exchange'; a: FieldRef; b: FieldRef}
  | {type: 'push' | 'pop'; field: FieldRef}
  | {type: 'dec_ttl'}
  | {type: 'ct_next'}
  | {type: 'ct_commit'; actions: Action[]}
  | {type: 'ct_nat'; name: NatName; ip?: IpConstant; ports?: [number, number]}
  | {type: 'ct_commit_nat'}
  | {type: 'ct_clear'}
  | {type: 'ct_snat_to_vip'}
  | {type: 'ct_lb'; mark: boolean; backends?: Backend[]; hashFields?: string[]; ctFlag?: 'skip_snat' | 'force_snat'}
  | {type: 'nested'; name: NestedName; actions: Action[]}
  | {type: 'get_mac'; name: 'get_arp' | 'get_nd'; port: FieldRef; ip: FieldRef}
  | {type: 'put_mac'; name: 'put_arp' | 'put_nd'; port: FieldRef; ip: FieldRef; mac: FieldRef}
  | {type: 'lookup_mac'; name: 'lookup_arp' | 'lookup_nd'; dst: FieldRef; port: FieldRef; ip: FieldRef; mac: FieldRef}
  | {type: 'lookup_mac_ip'; name: 'lookup_arp_ip' | 'lookup_nd_ip'; dst: FieldRef; port: FieldRef; ip: FieldRef}
  | {type: 'get_fdb'; dst: FieldRef; mac: FieldRef}
  | {type: 'put_fdb'; port: FieldRef; mac: FieldRef}
  | {type: 'lookup_fdb'; dst: FieldRef; port: FieldRef; mac: FieldRef}
  | {type: 'put_opts'; name: 'put_dhcp_opts' | 'put_dhcpv6_opts' | 'put_nd_ra_opts'; dst: FieldRef; options: OptionValue[]}
  | {type: 'result'; name: ResultName; dst: FieldRef}
  | {type: 'check_pkt_larger'; dst: FieldRef; length: number}
  | {type: 'set_queue'; queue: number}
  | {type: 'set_meter'; rate: number; burst?: number}
  | {type: 'log'; name?: string; verdict?: 'allow' | 'drop' | 'reject'; severity?: LogSeverity; meter?: string}
  | {type: 'trigger_event'; event: string; options: Array<[string, string]>; meter?: string}
  | {type: 'controller_op'; name: 'igmp' | 'handle_dhcpv6_reply'}
  | {type: 'bind_vport'; vport: string; port: FieldRef}
  | {type: 'handle_svc_check'; port: FieldRef}
  | {type: 'select'; dst: FieldRef; members: Array<{value: number; weight: number}>}
  | {type: 'commit_ecmp_nh'; ipv6: boolean; proto: 'tcp' | 'udp' | 'sctp'}
  | {type: 'ovn_field'; name: 'icmp4.frag_mtu' | 'icmp6.frag_mtu'; value: number}

/** Syslog severities `log` accepts (ovn-sb(5) "log"), with their syslog numbers. */
export const logSeverities = {alert: 1, warning: 4, notice: 5, info: 6, debug: 7} as const

/** A `log` severity name. */
export type LogSeverity = keyof typeof logSeverities

function constantText(c: Constant): string {
  if (c.kind === 'string') return JSON.stringify(c.text)
  return c.mask === undefined ? formatInt(c.value, c.format) : formatMasked(c.value, c.mask, c.format, 128)
}

/** Text of an IP constant. */
export function ipText(ip: IpConstant): string {
  return formatInt(ip.value, ip.format)
}

function backendText(b: Backend): string {
  if (b.port === undefined) return ipText(b.ip)
  return b.ip.format === 'ipv6' ? `[${ipText(b.ip)}]:${b.port}` : `${ipText(b.ip)}:${b.port}`
}

function optionText(o: OptionValue): string {
  const v = o.isSet ? `{${o.values.map(constantText).join(', ')}}` : constantText(o.values[0])
  return `${o.name} = ${v}`
}

const f = formatFieldRef

function formatOne(a: Action): string {
  switch (a.type) {
    case 'next':
      if (a.pipeline === undefined) return a.table === undefined ? 'next;' : `next(${a.table});`
      return a.table === undefined ? `next(pipeline=${a.pipeline});` : `next(pipeline=${a.pipeline}, table=${a.table});`
    case 'output':
    case 'drop':
    case 'dec_ttl':
    case 'ct_next':
    case 'ct_commit_nat':
    case 'ct_clear':
    case 'ct_snat_to_vip':
      return a.type === 'dec_ttl' ? 'ip.ttl--;' : `${a.type};`
    case 'load':
      return `${f(a.dst)} = ${constantText(a.value)};`
    case 'move':
      return `${f(a.dst)} = ${f(a.src)};`
    case 'exchange':
      return `${f(a.a)} <-> ${f(a.b)};`
    case 'push':
    case 'pop':
      return `${a.type}(${f(a.field)});`
    case 'ct_commit':
      return a.actions.length === 0 ? 'ct_commit;' : `ct_commit { ${formatActions(a.actions)} };`
    case 'ct_nat': {
      if (!a.ip) return `${a.name};`
      const ports = a.ports ? (a.ports[0] === a.ports[1] ? `,${a.ports[0]}` : `,${a.ports[0]}-${a.ports[1]}`) : ''
      return `${a.name}(${ipText(a.ip)}${ports});`
    }
    case 'ct_lb': {
      const name = a.mark ? 'ct_lb_mark' : 'ct_lb'
      if (!a.backends) return `${name};`
      const parts = [`backends=${a.backends.map(backendText).join(',')}`]
      if (a.hashFields) parts.push(`hash_fields=${JSON.stringify(a.hashFields.join(','))}`)
      if (a.ctFlag) parts.push(a.ctFlag)
      return `${name}(${parts.join('; ')});`
    }
    case 'nested':
      return a.actions.length === 0 ? `${a.name} { };` : `${a.name} { ${formatActions(a.actions)} };`
    default:
      return formatCall(a)
  }
}

/** Text of the actions written as calls, `name(...)` or `R = name(...)`. */
function formatCall(a: Action): string {
  switch (a.type) {
    case 'get_mac':
      return `${a.name}(${f(a.port)}, ${f(a.ip)});`
    case 'put_mac':
      return `${a.name}(${f(a.port)}, ${f(a.ip)}, ${f(a.mac)});`
    case 'lookup_mac':
      return `${f(a.dst)} = ${a.name}(${f(a.port)}, ${f(a.ip)}, ${f(a.mac)});`
    case 'lookup_mac_ip':
      return `${f(a.dst)} = ${a.name}(${f(a.port)}, ${f(a.ip)});`
    case 'get_fdb':
      return `${f(a.dst)} = get_fdb(${f(a.mac)});`
    case 'put_fdb':
      return `put_fdb(${f(a.port)}, ${f(a.mac)});`
    case 'lookup_fdb':
      return `${f(a.dst)} = lookup_fdb(${f(a.port)}, ${f(a.mac)});`
    case 'put_opts':
      return `${f(a.dst)} = ${a.name}(${a.options.map(optionText).join(', ')});`
    case 'result':
      return `${f(a.dst)} = ${a.name}();`
    case 'check_pkt_larger':
      return `${f(a.dst)} = check_pkt_larger(${a.length});`
    case 'set_queue':
      return `set_queue(${a.queue});`
    case 'set_meter':
      return a.burst === undefined ? `set_meter(${a.rate});` : `set_meter(${a.rate}, ${a.burst});`
    case 'log': {
      const parts: string[] = []
      if (a.name !== undefined) parts.push(`name=${JSON.stringify(a.name)}`)
      parts.push(`verdict=${a.verdict ?? 'allow'}`, `severity=${a.severity ?? 'info'}`)
      if (a.meter !== undefined) parts.push(`meter=${JSON.stringify(a.meter)}`)
      return `log(${parts.join(', ')});`
    }
    case 'trigger_event': {
      const parts = [`event = ${JSON.stringify(a.event)}`, ...a.options.map(([k, v]) => `${k} = ${JSON.stringify(v)}`)]
      if (a.meter !== undefined) parts.push(`meter = ${JSON.stringify(a.meter)}`)
      return `trigger_event(${parts.join(', ')});`
    }
    case 'controller_op':
      return `${a.name};`
    case 'bind_vport':
      return `bind_vport(${JSON.stringify(a.vport)}, ${f(a.port)});`
    case 'handle_svc_check':
      return `handle_svc_check(${f(a.port)});`
    case 'select':
      return `${f(a.dst)} = select(${a.members.map((m) => `${m.value}=${m.weight}`).join(', ')});`
    case 'commit_ecmp_nh':
      return `commit_ecmp_nh(ipv6 = ${a.ipv6}, proto = ${a.proto});`
    case 'ovn_field':
      return `${a.name} = ${a.value};`
    default:
      throw new Error(`formatCall: unexpected action ${a.type}`)
  }
}

/** Canonical text of an action list (`drop;` for the empty list, as ovn-controller prints it). */
export function formatActions(actions: readonly Action[]): string {
  return actions.length === 0 ? 'drop;' : actions.map(formatOne).join(' ')
}
