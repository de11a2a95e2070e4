/**
 * The "egress pipeline on the ingress chassis" option: for the logical switches it names, a packet whose output
 * port is on another chassis runs the switch's egress pipeline (to-lport ACLs, port security) where it entered,
 * so that a packet the egress pipeline drops never crosses the underlay. By default (ovn-architecture(7)
 * "Architectural Physical Life Cycle of a Packet") the egress pipeline runs on the chassis owning the port.
 *
 * Where it is set: `ovn-nbctl set NB_Global . options:ovnctl-egress-on-ingress=SW1,SW2` (or `*`). ovn-northd
 * 23.03 copies NB_Global.options into SB_Global.options, which every chassis reads, so they agree; an option
 * written into SB_Global directly, or into Datapath_Binding.external_ids, is overwritten by northd's next run.
 *
 * The tunnel key: OVN 23.03 fills 31 bits of the 32-bit Geneve option (class 0x0102 type 0x80): the 15-bit
 * ingress port in bits 16-30 and the 16-bit egress port in bits 0-15; bit 31 is unused (ovn-architecture(7)
 * "Tunnel Encapsulations") and the real ovn-controller copies only bits 16-30 and 0-15, ignoring it. Bit 31 set
 * says "egress already done": the receiving chassis delivers to the port (table 65) without running the egress
 * pipeline again. A receiver that does not know the bit runs the egress pipeline again, which for the stateless
 * switches the option is limited to gives the same verdict: the two interoperate. VXLAN has 24 bits of key and
 * no room for the flag, so the option does nothing over VXLAN tunnels.
 *
 * What it covers: VIF ports (type "") of the switch bound to another chassis. Packets to a multicast group keep
 * fanning out unflagged, each chassis running the egress pipeline for its own members; a packet sent back to
 * its own port (loopback, hairpin) has both ports here and never used a tunnel.
 *
 * State: the egress stages run conntrack (ct_next, ct_commit, ct_lb_mark) in the output port's zone, and the
 * reply of a connection runs the ingress pipeline of that port on the port's own chassis, in the same zone; both
 * directions must meet one conntrack table. Run on the ingress chassis, the original direction would be
 * committed on one hypervisor and the reply looked up on another, where it is "new" or "invalid" and, with
 * stateful ACLs, dropped. So a switch qualifies only if its egress pipeline never asks for conntrack.
 * ovn-northd asks by setting the conntrack request bits of reg0 (REGBIT_CONNTRACK_DEFRAG reg0[0],
 * REGBIT_CONNTRACK_COMMIT reg0[1], REGBIT_CONNTRACK_NAT reg0[2]), which table 41 clears before the egress
 * pipeline starts: the stateful stages (ls_out_pre_stateful, ls_out_stateful) only run conntrack when one is
 * set. A switch with an egress flow that sets one of them (stateful ACLs, load balancers), or that runs a
 * conntrack action not guarded by them or by a conntrack state match, is refused with a logged reason. The
 * egress pipeline then sees the packet as it does in OVN when both ports are on one chassis: after the ingress
 * pipelines on the same hypervisor, with whatever conntrack state they left, and nothing of its own to keep.
 */
import type {Datapath, LogicalFlow} from './sb-model.js'

/** The SB_Global (and NB_Global) option that names the switches. */
export const egressOnIngressOption = 'ovnctl-egress-on-ingress'

/** Bit 31 of the Geneve option: the egress pipeline already ran on the ingress chassis. */
export const egressDoneFlag = 0x8000_0000

/** The conntrack request bits of reg0 that make ovn-northd's egress stages run conntrack (northd.c REGBIT_CONNTRACK_*). */
const conntrackRequest = /\breg0\[[012]\] = 1\b/
/** Actions that run or commit conntrack (ovn-sb(5) Logical_Flow actions). */
const conntrackAction = /\bct_(next|commit|commit_nat|lb|lb_mark|dnat|snat|dnat_in_czone|snat_in_czone|snat_to_vip)\b/
/**
 * A match that can only hold once conntrack ran: a request bit tested as set, an ACL hint bit (reg0[7]-reg0[10],
 * northd.c REGBIT_ACL_HINT_*, which ls_out_acl_hint sets from conntrack state only), or a conntrack state field.
 */
const conntrackGuard = /\breg0\[([012]|[7-9]|10)\] == 1\b|\bct\.|\bct_(state|mark|label)\b/

/** What the option means on this chassis now. */
export interface EgressOnIngressPlan {
  /** UUIDs of the switches whose remote ports get their egress pipeline here. */
  datapaths: Set<string>
  /** Per named switch: "on", or why not. */
  status: Map<string, string>
  /** Lines for the log: unknown names, refusals. */
  notes: string[]
}

/** The switch names an option value lists (comma or space separated), or "*" for every switch. */
export function optionNames(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,]+/).filter((n) => n !== '')
}

/** Why an egress logical flow makes the switch need conntrack on the port's own chassis, if it does. */
export function conntrackReason(lf: LogicalFlow): string | undefined {
  if (lf.pipeline !== 'egress') return undefined
  const stage = lf.stage || `egress table ${lf.tableId}`
  const request = lf.actions.match(conntrackRequest)
  if (request) return `egress stage ${stage} requests conntrack ("${request[0]}" where "${lf.match}")`
  const action = lf.actions.match(conntrackAction)
  if (action && !conntrackGuard.test(lf.match)) return `egress stage ${stage} runs ${action[0]} where "${lf.match}"`
  return undefined
}

/** conntrackReason of each logical flow seen ('' for none); a changed row is a new object, so entries never go stale. */
const reasons = new WeakMap<LogicalFlow, string>()

/** What the plan is computed from. */
export interface PlanInput {
  /** SB_Global options:ovnctl-egress-on-ingress. */
  option: string | undefined
  /** This chassis' encapsulation type. */
  encapType: string
  datapaths: ReadonlyMap<string, Datapath>
  /** The datapaths present here: only their logical flows are in the replica, so only they can be judged. */
  local: ReadonlySet<string>
  lflows: Iterable<LogicalFlow>
  dpGroups: ReadonlyMap<string, readonly string[]>
}

/** Which switches the option applies to here, and why the others named are left alone. */
export function planEgressOnIngress(input: PlanInput): EgressOnIngressPlan {
  const plan: EgressOnIngressPlan = {datapaths: new Set(), status: new Map(), notes: []}
  const names = optionNames(input.option)
  if (names.length === 0) return plan
  const wanted = new Map<string, Datapath>()
  const byName = new Map([...input.datapaths.values()].filter((d) => !d.isRouter).map((d) => [d.name, d]))
  for (const name of names) {
    const d = byName.get(name)
    if (name === '*') for (const l of byName.values()) if (input.local.has(l.uuid)) wanted.set(l.uuid, l)
    if (name === '*') continue
    if (!d) plan.notes.push(`${egressOnIngressOption}: no logical switch "${name}" in the Southbound; ignored`)
    else if (input.local.has(d.uuid)) wanted.set(d.uuid, d)
    else plan.status.set(name, 'not present on this chassis')
  }
  if (input.encapType !== 'geneve') {
    for (const d of wanted.values()) plan.status.set(d.name, `refused: ${input.encapType} tunnels have no room for the "egress done" flag (Geneve only)`)
    plan.notes.push(`${egressOnIngressOption}: refused for every switch: this chassis uses ${input.encapType}, whose tunnel key has no room for the "egress done" flag (Geneve only)`)
    return plan
  }
  const refused = new Map<string, string>()
  for (const lf of input.lflows) {
    if (lf.pipeline !== 'egress') continue
    const dps = lf.datapath !== undefined ? [lf.datapath] : (input.dpGroups.get(lf.dpGroup ?? '') ?? [])
    if (!dps.some((d) => wanted.has(d) && !refused.has(d))) continue
    let reason = reasons.get(lf)
    if (reason === undefined) reasons.set(lf, (reason = conntrackReason(lf) ?? ''))
    if (reason) for (const d of dps) if (wanted.has(d) && !refused.has(d)) refused.set(d, reason)
  }
  for (const d of wanted.values()) {
    const reason = refused.get(d.uuid)
    if (reason === undefined) {
      plan.datapaths.add(d.uuid)
      plan.status.set(d.name, 'on')
    } else {
      plan.status.set(d.name, `refused: its egress pipeline needs conntrack on the port's chassis: ${reason}`)
      plan.notes.push(`${egressOnIngressOption}: refused for logical switch "${d.name}": its egress pipeline needs conntrack on the port's chassis: ${reason}`)
    }
  }
  return plan
}

/** The log lines for going from plan `old` to plan `plan`: new notes, and the switches it is on for if they changed. */
export function planLogLines(old: EgressOnIngressPlan, plan: EgressOnIngressPlan): Array<{level: 'INFO' | 'WARN'; message: string}> {
  const seen = new Set(old.notes)
  const lines: Array<{level: 'INFO' | 'WARN'; message: string}> = plan.notes.filter((n) => !seen.has(n)).map((message) => ({level: 'WARN', message}))
  const onFor = (p: EgressOnIngressPlan) => [...p.status].filter(([, s]) => s === 'on').map(([n]) => n).sort().join(', ')
  const on = onFor(plan)
  if (on !== onFor(old)) lines.push({level: 'INFO', message: `${egressOnIngressOption}: the egress pipeline runs on the ingress chassis for ${on ? `logical switches ${on}` : 'no logical switch'}`})
  return lines
}

/** The option as one controller follows it: the current plan, re-read at every run, changes logged once. */
export class EgressOnIngress {
  /** The plan of the last run. */
  plan: EgressOnIngressPlan = {datapaths: new Set(), status: new Map(), notes: []}

  constructor(private readonly log: (level: 'INFO' | 'WARN', message: string) => void) {}

  /** Plans again from SB_Global's options and the replica; returns the switches it applies to. */
  update(sbGlobalOptions: Record<string, string>, input: Omit<PlanInput, 'option'>): ReadonlySet<string> {
    const plan = planEgressOnIngress({...input, option: sbGlobalOptions[egressOnIngressOption]})
    for (const line of planLogLines(this.plan, plan)) this.log(line.level, line.message)
    this.plan = plan
    return plan.datapaths
  }

  /** Lines for `connection-status`: one per switch named. */
  statusLines(): string[] {
    return [...this.plan.status].map(([name, status]) => `egress on ingress: ${name}: ${status}`)
  }
}
