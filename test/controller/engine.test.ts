import assert from 'node:assert/strict'
import type {ReplicaEvent} from '../../src/core/idl/replica.js'
import {FlowEngine} from '../../src/core/controller/engine.js'
import type {DesiredFlow} from '../../src/core/controller/lflow.js'
import {ZoneTable, localDatapaths} from '../../src/core/controller/local.js'
import {SbIndex} from '../../src/core/controller/sb-index.js'
import {tunnelChanges} from '../../src/core/controller/tunnels.js'
import {bundleFor, keyed, parseInstalledFlow, asInstalled} from '../../src/core/openflow/bundle.js'
import {formatFlow} from '../../src/core/openflow/flow.js'

const uuid = (n: number) => `${n.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`
const ref = (n: number) => ['uuid', uuid(n)]

function dp(n: number, key: number, name: string, router = false): ReplicaEvent {
  return {table: 'Datapath_Binding', uuid: uuid(n), action: 'insert', row: {tunnel_key: key, external_ids: ['map', [['name', name], [router ? 'logical-router' : 'logical-switch', uuid(n)]]]}}
}

function port(n: number, name: string, datapath: number, key: number, extra: Record<string, unknown> = {}): ReplicaEvent {
  return {table: 'Port_Binding', uuid: uuid(n), action: 'insert', row: {logical_port: name, datapath: ref(datapath), tunnel_key: key, type: '', options: ['map', []], chassis: ['set', []], up: ['set', []], mac: ['set', []], ...extra}}
}

function lflow(n: number, datapath: number, table: number, match: string, actions: string, priority = 100): ReplicaEvent {
  return {
    table: 'Logical_Flow',
    uuid: uuid(n),
    action: 'insert',
    row: {logical_datapath: ref(datapath), logical_dp_group: ['set', []], pipeline: 'ingress', table_id: table, priority, match, actions, external_ids: ['map', [['stage-name', `ls_in_t${table}`]]]},
  }
}

/** The engine's desired table, with no physical flows. */
function desiredFlows(engine: FlowEngine): DesiredFlow[] {
  engine.desired([])
  return [...engine.table.flows()]
}

/** sw (1, key 1) with ports a (key 1) and b (key 2), a router (2, key 2) joined to it by patch ports, and sw2 (3, key 3). */
function topology(): ReplicaEvent[] {
  return [
    dp(1, 1, 'sw'),
    dp(2, 2, 'lr', true),
    dp(3, 3, 'sw2'),
    port(0x101, 'a', 1, 1),
    port(0x102, 'b', 1, 2),
    port(0x103, 'sw-lr', 1, 3, {type: 'patch', options: ['map', [['peer', 'lr-sw']]]}),
    port(0x201, 'lr-sw', 2, 1, {type: 'patch', options: ['map', [['peer', 'sw-lr']]]}),
    port(0x301, 'c', 3, 1),
    {table: 'Address_Set', uuid: uuid(0x401), action: 'insert', row: {name: 'as1', addresses: ['set', ['10.0.0.1', '10.0.0.2']]}},
    lflow(0x1001, 1, 0, 'inport == "a"', 'next;'),
    lflow(0x1002, 1, 1, 'ip4.src == $as1 && tcp.dst == {80, 443}', 'drop;'),
    lflow(0x1003, 1, 2, 'ip4.dst == ', 'next;'),
    lflow(0x1004, 1, 3, 'outport == "b"', 'output;'),
    lflow(0x1005, 3, 0, '1', 'next;'),
  ]
}

describe('the controller\'s flow engine', () => {
  it('counts a datapath local when a local port is on it, and every datapath reachable through patch ports', () => {
    const sb = new SbIndex()
    sb.apply(topology())
    assert.deepEqual([...localDatapaths(sb, new Map([['a', 5]]), undefined)].sort(), [uuid(1), uuid(2)])
    assert.deepEqual([...localDatapaths(sb, new Map([['c', 5]]), undefined)], [uuid(3)])
  })

  it('compiles the flows of local datapaths only, and names the flow that does not parse while installing the rest', () => {
    const sb = new SbIndex()
    sb.apply(topology())
    const engine = new FlowEngine(sb, () => false)
    const run = engine.recompute(new Set([uuid(1)]))
    assert.equal(run.compiled, 4, 'the four logical flows of sw, not the one of sw2')
    assert.equal(run.errors.length, 1)
    assert.equal(run.errors[0].uuid, uuid(0x1003))
    assert.match(run.errors[0].message, /Syntax error/)
    const flows = desiredFlows(engine).map(formatFlow)
    assert.ok(flows.includes('cookie=0x1001, table=8, priority=100,reg14=0x1,metadata=0x1 actions=resubmit(,9)'), flows.join('\n'))
    assert.ok(flows.some((f) => f.includes('table=11') && f.includes('reg15=0x2')), 'output to b')
    assert.equal(flows.filter((f) => f.includes('conjunction(')).length, 4, 'two address set members and two ports, as conjunction clauses')
  })

  it('recompiles only the logical flows that mention a changed address set or port', () => {
    const sb = new SbIndex()
    sb.apply(topology())
    const engine = new FlowEngine(sb, () => false)
    const local = new Set([uuid(1)])
    engine.recompute(local)
    const asChange = sb.apply([{table: 'Address_Set', uuid: uuid(0x401), action: 'modify', row: {name: 'as1', addresses: ['set', ['10.0.0.9']]}, changed: ['addresses']}])
    assert.equal(engine.update(asChange, local).compiled, 1)
    assert.ok(desiredFlows(engine).some((f) => formatFlow(f).includes('nw_src=10.0.0.9')))
    const portChange = sb.apply([{...port(0x102, 'b', 1, 7), action: 'modify', changed: ['tunnel_key']}])
    const run = engine.update(portChange, local)
    assert.equal(run.full, false)
    assert.equal(run.compiled, 1, 'only the flow naming "b"')
    assert.ok(desiredFlows(engine).some((f) => formatFlow(f).includes('reg15=0x7')))
  })

  it('reports as changed only the flows of the logical flows a change recompiled, for the bundle to the switch', () => {
    const sb = new SbIndex()
    sb.apply(topology())
    const engine = new FlowEngine(sb, () => false)
    const local = new Set([uuid(1)])
    engine.recompute(local)
    assert.deepEqual(engine.desired([]).changed, {all: true}, 'a recompute changes every flow')
    engine.update(sb.apply([{...port(0x102, 'b', 1, 7), action: 'modify', changed: ['tunnel_key']}]), local)
    const {changed} = engine.desired([])
    assert.deepEqual(changed.all ? 'all' : [...changed.keys].sort(), ['11/100/reg15=0x2,metadata=0x1', '11/100/reg15=0x7,metadata=0x1'], 'the old flow to b goes, the new one comes')
    assert.equal(engine.table.get('11/100/reg15=0x2,metadata=0x1'), undefined)
    assert.equal(engine.table.get('11/100/reg15=0x7,metadata=0x1')?.actions, 'resubmit(,37)', 'output: to table 37')
    assert.deepEqual(engine.desired([]).changed, {all: false, keys: new Set()}, 'nothing changed since')
  })

  it('recompiles, when a port becomes local, only the flows naming it or a port group it is in', () => {
    const sb = new SbIndex()
    sb.apply([
      ...topology(),
      {table: 'Port_Group', uuid: uuid(0x501), action: 'insert', row: {name: '1_pg1', ports: ['set', ['a']]}},
      {table: 'Port_Group', uuid: uuid(0x502), action: 'insert', row: {name: '1_pg2', ports: ['set', ['b']]}},
      lflow(0x1006, 1, 4, 'inport == @pg1', 'next;'),
      lflow(0x1007, 1, 5, 'inport == @pg2', 'next;'),
      lflow(0x1008, 1, 6, 'outport == @pg1', 'next;'),
    ])
    const engine = new FlowEngine(sb, () => false)
    const local = new Set([uuid(1)])
    engine.setLocalPorts(new Set(['a']))
    engine.recompute(local)
    const before = desiredFlows(engine).map(formatFlow)
    assert.ok(!before.some((f) => f.includes('table=13')), 'no local member of pg2 yet: its flow matches nothing here')
    engine.setLocalPorts(new Set(['a', 'b']))
    const run = engine.update(sb.apply([]), local)
    assert.equal(run.compiled, 2, 'the flows naming "b" and @pg2, not the two naming @pg1')
    assert.ok(desiredFlows(engine).map(formatFlow).some((f) => f.includes('table=13') && f.includes('reg14=0x2')), 'b\'s flow through pg2')
  })

  it('recompiles everything when the set of local datapaths changes', () => {
    const sb = new SbIndex()
    sb.apply(topology())
    const engine = new FlowEngine(sb, () => false)
    engine.recompute(new Set([uuid(1)]))
    const run = engine.update(sb.apply([]), new Set([uuid(1), uuid(3)]))
    assert.equal(run.full, true)
    assert.equal(run.compiled, 5)
  })
})

describe('conntrack zones', () => {
  it('keeps the zones recorded in the bridge and gives new keys the lowest free zone', () => {
    const zones = new ZoneTable({'ct-zone-a': '2', 'ct-zone-gone': '1', other: 'x'})
    const changes = zones.update(['a', 'b', 'c'])
    assert.equal(zones.get('a'), 2)
    assert.deepEqual([zones.get('b'), zones.get('c')], [1, 3])
    assert.deepEqual([...changes], [['ct-zone-gone', null], ['ct-zone-b', 1], ['ct-zone-c', 3]])
    assert.equal(zones.update(['a', 'b', 'c']).size, 0)
  })
})

describe('bundles of flow differences', () => {
  const sw = (line: string) => parseInstalledFlow(line)
  it('adds, deletes and replaces only what differs, with groups added first and removed last', () => {
    const installed = {
      flows: keyed([sw(' cookie=0x1, table=8, priority=100,metadata=0x1 actions=resubmit(,9)'), sw(' table=9, priority=0 actions=drop'), sw(' cookie=0x2, table=10, priority=5,reg15=0 actions=drop')]),
      groups: new Map([[7, 'group_id=7,type=select,bucket=actions=drop']]),
    }
    const desired = {
      flows: keyed([sw(' cookie=0x1, table=8, priority=100,metadata=0x1 actions=resubmit(,9)'), sw(' cookie=0x3, table=10, priority=5,reg15=0 actions=drop'), sw(' table=11, priority=1 actions=drop')]),
      groups: new Map([[8, 'group_id=8,type=select,bucket=actions=drop']]),
    }
    const {lines, stats} = bundleFor(installed, desired)
    assert.deepEqual(lines, [
      'group add group_id=8,type=select,bucket=actions=drop',
      'flow delete_strict table=9,priority=0',
      'flow delete_strict table=10,priority=5,reg15=0',
      'flow add table=10,priority=5,cookie=0x3,reg15=0,actions=drop',
      'flow add table=11,priority=1,actions=drop',
      'group delete group_id=7',
    ])
    assert.deepEqual(stats, {flowsAdded: 1, flowsDeleted: 1, flowsReplaced: 1, groupsAdded: 1, groupsDeleted: 1, groupsReplaced: 0})
    assert.equal(bundleFor(desired, desired).lines.length, 0)
  })

  it('reads a desired flow the way the switch prints it back', () => {
    const f = {table: 41, priority: 100, cookie: 0x5n, match: sw(' table=41, priority=100,reg10=0/0x1,reg14=0x2 actions=drop').matchText, actions: ''}
    assert.equal(f.match, 'reg10=0/0x1,reg14=0x2')
    const parsed = parseInstalledFlow(' cookie=0x5, table=21, priority=1,ip,metadata=0x3 actions=dec_ttl,resubmit(,22)')
    const desired = asInstalled({table: 21, priority: 1, cookie: 5n, match: new Map([['dl_type', {value: 0x800n, mask: 0xffffn}], ['metadata', {value: 3n, mask: (1n << 64n) - 1n}]]), actions: 'dec_ttl(),resubmit(,22)'})
    assert.deepEqual(desired, parsed)
  })
})

describe('tunnel ports', () => {
  const config = {systemId: 'hv1', remote: 'unix:sb', encapType: 'geneve' as const, encapIp: '10.0.0.1', bridge: 'br-int', monitorAll: false}
  const chassis = (name: string, ip: string) => ({uuid: name, name, encaps: [{type: 'geneve', ip}]})

  it('adds one port per other chassis, numbering names that share their first six characters, and removes stale ones', () => {
    const bridge = {uuid: 'br', externalIds: {}, vifs: new Map(), vifInterfaces: new Map(), tunnels: new Map([['gone', {port: 'p-gone', name: 'ovn-gone-0', ofport: 3, remoteIp: '10.0.0.9', type: 'geneve'}]])}
    const {ops, added} = tunnelChanges(config, bridge, [chassis('hv1', '10.0.0.1'), chassis('compute-a', '10.0.0.2'), chassis('compute-b', '10.0.0.3')])
    assert.deepEqual(added, ['geneve tunnel to chassis "compute-a" at 10.0.0.2', 'geneve tunnel to chassis "compute-b" at 10.0.0.3'])
    const names = ops.filter((o) => (o as {table?: string; op: string}).table === 'Interface' && (o as {op: string}).op === 'insert').map((o) => (o as {row: {name: string}}).row.name)
    assert.deepEqual(names, ['ovn-comput-0', 'ovn-comput-1'])
    assert.deepEqual(ops[0], {op: 'mutate', table: 'Bridge', where: [['_uuid', '==', ['uuid', 'br']]], mutations: [['ports', 'delete', ['set', [['uuid', 'p-gone']]]]]})
  })
})
