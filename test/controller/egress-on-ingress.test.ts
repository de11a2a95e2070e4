import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {conntrackReason, egressOnIngressOption, planEgressOnIngress, planLogLines} from '../../src/core/controller/egress-on-ingress.js'
import {FlowEngine} from '../../src/core/controller/engine.js'
import {physicalFlows, type PhysicalInput, type Tunnel} from '../../src/core/controller/physical.js'
import {SbIndex} from '../../src/core/controller/sb-index.js'
import type {Datapath, LogicalFlow, PortBinding} from '../../src/core/controller/sb-model.js'
import {formatFlow} from '../../src/core/openflow/flow.js'

/**
 * Golden physical flows of one chassis (hv1) with the option off and on: switch sw (key 1) with VIF a here
 * (OpenFlow port 5) and VIF b on hv2 (Geneve tunnel, OpenFlow port 9), multicast group _MC_flood of both.
 * UPDATE_GOLDEN=1 rewrites the file.
 */
const goldenFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden', 'egress-on-ingress.txt')

const uuid = (n: number) => `${n.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`
const sw: Datapath = {uuid: uuid(1), key: 1, name: 'sw', isRouter: false}
const vif = (n: number, name: string, key: number, chassis: string): PortBinding => ({uuid: uuid(n), name, datapath: sw.uuid, key, type: '', options: {}, chassis, mac: [], portSecurity: []})
const ports = [vif(0x101, 'a', 1, 'ch-hv1'), vif(0x102, 'b', 2, 'ch-hv2')]

function input(tunnelType: Tunnel['type'], egressOnIngress: string[]): PhysicalInput {
  return {
    datapaths: new Map([[sw.uuid, sw]]),
    local: new Set([sw.uuid]),
    ports,
    portByName: new Map(ports.map((p) => [p.name, p])),
    portByUuid: new Map(ports.map((p) => [p.uuid, p])),
    multicast: [{uuid: uuid(0x201), datapath: sw.uuid, name: '_MC_flood', key: 0x8000, ports: ports.map((p) => p.uuid)}],
    vifs: new Map([['a', 5]]),
    chassis: 'ch-hv1',
    chassisNames: new Map([['ch-hv1', 'hv1'], ['ch-hv2', 'hv2']]),
    tunnels: new Map([['hv2', {chassis: 'hv2', ofport: 9, type: tunnelType}]]),
    zones: {port: (n) => (n === 'a' ? 3 : undefined), dnat: () => 1, snat: () => 2},
    egressOnIngress: new Set(egressOnIngress),
  }
}

const text = (i: PhysicalInput) => physicalFlows(i).map(formatFlow).sort()

function lf(n: number, pipeline: LogicalFlow['pipeline'], stage: string, match: string, actions: string, datapath = sw.uuid): LogicalFlow {
  return {uuid: uuid(n), datapath, pipeline, tableId: 0, priority: 100, match, actions, stage}
}

/** The egress flows ovn-northd 23.03 writes for a switch with a to-lport drop ACL and nothing stateful. */
const statelessEgress = [
  lf(1, 'egress', 'ls_out_pre_stateful', 'reg0[2] == 1', 'ct_lb_mark;'),
  lf(2, 'egress', 'ls_out_pre_stateful', 'reg0[0] == 1', 'ct_next;'),
  lf(3, 'egress', 'ls_out_acl', 'outport == "b" && udp && udp.dst == 7777', '/* drop */'),
  lf(4, 'egress', 'ls_out_stateful', 'reg0[1] == 1 && reg0[13] == 0', 'ct_commit { ct_mark.blocked = 0; }; next;'),
  lf(5, 'ingress', 'ls_in_pre_acl', 'ip', 'reg0[0] = 1; next;'),
]

describe('the egress pipeline on the ingress chassis (per-switch option)', () => {
  it('matches the golden physical flows with the option off and on, over Geneve and over VXLAN', () => {
    const sections = [
      ['geneve, option off', input('geneve', [])],
      ['geneve, option on for sw', input('geneve', [sw.uuid])],
      ['vxlan, option on for sw (no room for the flag: as off)', input('vxlan', [sw.uuid])],
    ] as const
    const got = sections.map(([title, i]) => `# ${title}\n${text(i).join('\n')}\n`).join('\n')
    if (process.env.UPDATE_GOLDEN) fs.writeFileSync(goldenFile, got)
    assert.equal(got, fs.readFileSync(goldenFile, 'utf8'))
  })

  it('runs the egress tables for the remote port here and tunnels the packet with bit 31 of the Geneve option set', () => {
    const on = text(input('geneve', [sw.uuid]))
    assert.ok(on.includes('cookie=0x102, table=39, priority=100,reg15=0x2,metadata=0x1 actions=set_field:0->reg13,set_field:0x1->reg11,set_field:0x2->reg12,resubmit(,41)'), on.join('\n'))
    assert.ok(on.includes('cookie=0x102, table=65, priority=100,reg15=0x2,metadata=0x1 actions=set_field:0x1->tun_id,set_field:0x80000002->tun_metadata0,move:NXM_NX_REG14[0..14]->NXM_NX_TUN_METADATA0[16..30],output:9'), on.join('\n'))
    assert.ok(!on.some((f) => f.includes('table=39') && f.includes('reg15=0x2') && f.includes('output:9')), 'no direct tunnel from table 39 any more')
  })

  it('enforces the remote port\'s egress port security here, since the receiver skips the egress pipeline', () => {
    const secured = {...ports[1], portSecurity: ['00:00:00:00:00:02 10.0.0.2']}
    const withSecurity = (egress: string[]): PhysicalInput => {
      const i = input('geneve', egress)
      const all = [ports[0], secured]
      return {...i, ports: all, portByName: new Map(all.map((p) => [p.name, p])), portByUuid: new Map(all.map((p) => [p.uuid, p]))}
    }
    const table75 = (flows: string[]) => flows.filter((f) => f.includes('table=75') && f.includes('reg15=0x2'))
    const on = table75(text(withSecurity([sw.uuid])))
    assert.ok(on.some((f) => f.includes('priority=80,') && /actions=set_field:0x1000\/0x1000->reg10/.test(f)), on.join('\n'))
    assert.ok(on.some((f) => f.includes('dl_dst=00:00:00:00:00:02') && f.includes('nw_dst=10.0.0.2')), on.join('\n'))
    assert.ok(!text(withSecurity([sw.uuid])).some((f) => /table=7[34],/.test(f) && f.includes('reg14=0x2')), 'its ingress port security stays on its own chassis')
    assert.deepEqual(table75(text(withSecurity([]))), [], 'without the option its egress runs, with its port security, on its own chassis')
  })

  it('delivers a flagged packet from the tunnel to the local port without its egress pipeline, and leaves unflagged packets as they were', () => {
    const on = text(input('geneve', [sw.uuid]))
    const off = text(input('geneve', []))
    const flagged = 'cookie=0x101, priority=110,tun_id=0x1,tun_metadata0=0x80000001/0x8000ffff,in_port=9 actions=set_field:0x1->metadata,move:NXM_NX_TUN_METADATA0[16..30]->NXM_NX_REG14[0..14],set_field:0x1->reg15,resubmit(,65)'
    assert.ok(on.includes(flagged), on.join('\n'))
    assert.ok(!off.some((f) => f.includes('tun_metadata0=0x8')), 'off: no flagged flow')
    const unflagged = (flows: string[]) => flows.filter((f) => f.includes('priority=100,in_port=9'))
    assert.deepEqual(unflagged(on), unflagged(off), 'the ordinary tunnel flow (egress runs here) is unchanged')
    assert.ok(unflagged(off)[0].includes('resubmit(,40)'))
  })

  it('keeps multicast groups fanning out through the tunnel without the flag', () => {
    const mc = (flows: string[]) => flows.filter((f) => f.includes('reg15=0x8000'))
    assert.deepEqual(mc(text(input('geneve', [sw.uuid]))), mc(text(input('geneve', []))))
  })

  it('accepts a switch whose egress pipeline only runs conntrack when a request bit is set, and refuses one that sets a bit', () => {
    const datapaths = new Map([[sw.uuid, sw], [uuid(2), {uuid: uuid(2), key: 2, name: 'sw2', isRouter: false}]])
    const stateful = lf(6, 'egress', 'ls_out_pre_acl', 'ip', 'reg0[0] = 1; next;', uuid(2))
    const plan = planEgressOnIngress({option: 'sw, sw2 nosuch', encapType: 'geneve', datapaths, local: new Set(datapaths.keys()), lflows: [...statelessEgress, lf(7, 'egress', 'x', '1', 'next;', uuid(2)), stateful], dpGroups: new Map()})
    assert.deepEqual([...plan.datapaths], [sw.uuid])
    assert.equal(plan.status.get('sw'), 'on')
    assert.match(plan.status.get('sw2') ?? '', /^refused: its egress pipeline needs conntrack on the port's chassis: egress stage ls_out_pre_acl requests conntrack \("reg0\[0\] = 1" where "ip"\)/)
    assert.ok(plan.notes.some((n) => n.includes('no logical switch "nosuch"')), plan.notes.join('\n'))
    assert.ok(plan.notes.some((n) => n.includes('refused for logical switch "sw2"')), plan.notes.join('\n'))
  })

  it('refuses a switch whose egress pipeline runs a conntrack action unguarded, and sees flows shared through a datapath group', () => {
    assert.match(conntrackReason(lf(8, 'egress', 'ls_out_lb', 'ip4.dst == 10.0.0.1', 'ct_lb_mark(backends=10.0.0.2);')) ?? '', /runs ct_lb_mark where "ip4.dst == 10.0.0.1"/)
    assert.equal(conntrackReason(lf(9, 'egress', 'ls_out_acl', 'ct.est && ct.rpl', 'ct_commit_nat;')), undefined, 'guarded by a conntrack state match')
    assert.equal(conntrackReason(lf(12, 'egress', 'ls_out_acl', 'reg0[10] == 1 && (udp)', 'ct_commit { ct_mark.blocked = 1; }; /* drop */')), undefined, 'guarded by an ACL hint bit')
    assert.equal(conntrackReason(lf(10, 'ingress', 'ls_in_pre_acl', 'ip', 'reg0[0] = 1; next;')), undefined, 'the ingress pipeline is not concerned')
    const grouped: LogicalFlow = {...lf(11, 'egress', 'ls_out_pre_lb', 'ip', 'reg0[2] = 1; next;'), datapath: undefined, dpGroup: uuid(0x300)}
    const plan = planEgressOnIngress({option: '*', encapType: 'geneve', datapaths: new Map([[sw.uuid, sw]]), local: new Set([sw.uuid]), lflows: [grouped], dpGroups: new Map([[uuid(0x300), [sw.uuid]]])})
    assert.equal(plan.datapaths.size, 0)
    assert.match(plan.status.get('sw') ?? '', /ls_out_pre_lb requests conntrack/)
  })

  it('judges only the switches present on this chassis (the others\' logical flows are not in its replica)', () => {
    const sw3: Datapath = {uuid: uuid(3), key: 3, name: 'sw3', isRouter: false}
    const datapaths = new Map([[sw.uuid, sw], [sw3.uuid, sw3]])
    const input = {encapType: 'geneve', datapaths, local: new Set([sw.uuid]), lflows: statelessEgress, dpGroups: new Map()}
    const named = planEgressOnIngress({...input, option: 'sw,sw3'})
    assert.deepEqual([...named.datapaths], [sw.uuid])
    assert.deepEqual([...named.status].sort(), [['sw', 'on'], ['sw3', 'not present on this chassis']])
    assert.deepEqual([...planEgressOnIngress({...input, option: '*'}).status], [['sw', 'on']], '"*" lists only the switches here')
  })

  it('refuses the option on a VXLAN chassis with a logged reason, and logs only what changed', () => {
    const base = {datapaths: new Map([[sw.uuid, sw]]), local: new Set([sw.uuid]), lflows: statelessEgress, dpGroups: new Map()}
    const vx = planEgressOnIngress({...base, option: 'sw', encapType: 'vxlan'})
    assert.equal(vx.datapaths.size, 0)
    assert.match(vx.notes.join('\n'), /this chassis uses vxlan, whose tunnel key has no room for the "egress done" flag/)
    const on = planEgressOnIngress({...base, option: 'sw', encapType: 'geneve'})
    const none = planEgressOnIngress({...base, option: undefined, encapType: 'geneve'})
    assert.deepEqual(planLogLines(none, on), [{level: 'INFO', message: `${egressOnIngressOption}: the egress pipeline runs on the ingress chassis for logical switches sw`}])
    assert.deepEqual(planLogLines(on, on), [], 'nothing new to say')
  })

  it('compiles, for a switch the option applies to, the egress flows of remote ports and whole port groups', () => {
    const sb = new SbIndex()
    const ref = (n: number) => ['uuid', uuid(n)]
    sb.apply([
      {table: 'Datapath_Binding', uuid: sw.uuid, action: 'insert', row: {tunnel_key: 1, external_ids: ['map', [['name', 'sw'], ['logical-switch', sw.uuid]]]}},
      ...ports.map((p, i) => ({table: 'Port_Binding', uuid: p.uuid, action: 'insert' as const, row: {logical_port: p.name, datapath: ref(1), tunnel_key: i + 1, type: '', options: ['map', []], chassis: ['set', []], up: ['set', []], mac: ['set', []]}})),
      {table: 'Port_Group', uuid: uuid(0x501), action: 'insert', row: {name: '1_pg', ports: ['set', ['a', 'b']]}},
      {table: 'Logical_Flow', uuid: uuid(0x1001), action: 'insert', row: {logical_datapath: ref(1), logical_dp_group: ['set', []], pipeline: 'egress', table_id: 4, priority: 2001, match: 'outport == @pg && udp', actions: 'drop;', external_ids: ['map', [['stage-name', 'ls_out_acl']]], tags: ['map', []]}},
      {table: 'Logical_Flow', uuid: uuid(0x1002), action: 'insert', row: {logical_datapath: ref(1), logical_dp_group: ['set', []], pipeline: 'egress', table_id: 8, priority: 50, match: 'outport == "b"', actions: 'next;', external_ids: ['map', [['stage-name', 'ls_out_check_port_sec']]], tags: ['map', [['in_out_port', 'b']]]}},
    ])
    const engine = new FlowEngine(sb, () => false)
    engine.setLocalPorts(new Set(['a']))
    const flows = () => {
      engine.desired([])
      return [...engine.table.flows()].map(formatFlow).filter((f) => f.includes('reg15=0x2'))
    }
    engine.recompute(new Set([sw.uuid]))
    assert.deepEqual(flows(), [], 'off: the egress flows for b run on b\'s chassis')
    assert.equal(engine.setEgressOnIngress(new Set([sw.uuid])), true)
    assert.equal(engine.setEgressOnIngress(new Set([sw.uuid])), false, 'the same set is no change')
    engine.recompute(new Set([sw.uuid]))
    const on = flows()
    assert.ok(on.some((f) => f.includes('table=46') && f.includes('udp')), on.join('\n'))
    assert.ok(on.some((f) => f.includes('table=50')), on.join('\n'))
  })
})
