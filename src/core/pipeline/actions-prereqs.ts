/**
 * Prerequisites that actions add to their flow's match (ovn-sb(5) Logical_Flow: "Assigning to a field with
 * prerequisites implicitly adds those prerequisites to match", and each action's "Prerequisite:" line). Actions
 * nested in `arp { ... }` and the like act on a packet the action builds, so their fields add nothing.
 */
import {resolveField} from './action-fields.js'
import type {Action} from './actions.js'
import {and, type Expr, type FieldRef} from './expr.js'
import {parseMatch} from './parser.js'
import type {SymbolTable} from './symbols.js'

/** Prerequisite of each action kind that has one of its own (beyond its fields'). */
const ownPrereq: Partial<Record<string, string>> = {
  dec_ttl: 'ip',
  ct_next: 'ip',
  ct_commit: 'ip',
  ct_nat: 'ip',
  ct_commit_nat: 'ip',
  ct_lb: 'ip',
  arp: 'ip4',
  nd_ns: 'ip6',
  nd_na: 'nd_ns',
  nd_na_router: 'nd_ns',
  icmp4: 'ip4',
  icmp4_error: 'ip4',
  icmp6: 'ip6',
  icmp6_error: 'ip6',
  tcp_reset: 'tcp',
  sctp_abort: 'sctp',
  dns_lookup: 'udp',
  'icmp4.frag_mtu': 'icmp4',
  'icmp6.frag_mtu': 'icmp6',
}

function fieldsOf(a: Action): FieldRef[] {
  switch (a.type) {
    case 'load':
      return [a.dst]
    case 'move':
      return [a.dst, a.src]
    case 'exchange':
      return [a.a, a.b]
    case 'push':
    case 'pop':
      return [a.field]
    case 'get_mac':
      return [a.port, a.ip]
    case 'put_mac':
      return [a.port, a.ip, a.mac]
    case 'lookup_mac':
      return [a.dst, a.port, a.ip, a.mac]
    case 'lookup_mac_ip':
      return [a.dst, a.port, a.ip]
    case 'get_fdb':
      return [a.dst, a.mac]
    case 'put_fdb':
      return [a.port, a.mac]
    case 'lookup_fdb':
      return [a.dst, a.port, a.mac]
    case 'put_opts':
    case 'result':
    case 'check_pkt_larger':
    case 'select':
      return [a.dst]
    case 'bind_vport':
    case 'handle_svc_check':
      return [a.port]
    case 'ct_commit':
      return a.actions.flatMap(fieldsOf)
    default:
      return []
  }
}

/** The prerequisite expressions (match syntax) of each action, deduplicated, in order of appearance. */
export function actionPrereqTexts(actions: readonly Action[], symtab: SymbolTable): string[] {
  const out = new Set<string>()
  for (const a of actions) {
    const key = a.type === 'nested' || a.type === 'ovn_field' || a.type === 'result' ? a.name : a.type
    const own = ownPrereq[key]
    if (own) out.add(own)
    // The learned flows copy L3 and L4 fields, which OpenFlow only allows when the flow matches that protocol.
    if (a.type === 'commit_ecmp_nh') out.add(`${a.ipv6 ? 'ip6' : 'ip4'} && ${a.proto}`)
    for (const ref of fieldsOf(a)) for (const p of resolveField(ref, symtab).prereqs) out.add(p)
  }
  return [...out]
}

/** The conjunction of the actions' prerequisites, or null when they have none. */
export function actionPrereqs(actions: readonly Action[], symtab: SymbolTable): Expr | null {
  const texts = actionPrereqTexts(actions, symtab)
  if (texts.length === 0) return null
  return and(texts.map((t) => parseMatch(t)))
}
