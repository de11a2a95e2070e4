import assert from 'node:assert/strict'
import type {ReplicaEvent} from '../../src/core/idl/replica.js'
import {MacBindingFlowCache, macBindingFlows} from '../../src/core/controller/mac-binding.js'
import {SbIndex} from '../../src/core/controller/sb-index.js'
import {formatFlow} from '../../src/core/openflow/flow.js'

// Row UUIDs and expected lines are those of a run of the real ovn-controller 23.03 (ovs-ofctl -O OpenFlow15
// dump-flows --no-stats table=66 / table=67) on the e2e topology: router lr0 (datapath key 3), lr0-sw0 key 1,
// lr0-sw1 key 2.
const lr0 = '555cc931-eca7-4009-88a3-aef52de282d8'
const sw9 = '99999999-0000-4000-8000-000000000000'

function datapath(uuid: string, key: number, name: string): ReplicaEvent {
  return {table: 'Datapath_Binding', uuid, action: 'insert', row: {tunnel_key: key, external_ids: ['map', [['name', name], ['logical-router', uuid]]]}}
}

function port(uuid: string, name: string, dp: string, key: number): ReplicaEvent {
  return {table: 'Port_Binding', uuid, action: 'insert', row: {logical_port: name, datapath: ['uuid', dp], tunnel_key: key, type: 'patch', options: ['map', []], chassis: ['set', []], up: ['set', []], mac: ['set', []]}}
}

function binding(uuid: string, logicalPort: string, ip: string, mac: string, dp = lr0, action: ReplicaEvent['action'] = 'insert'): ReplicaEvent {
  return {table: 'MAC_Binding', uuid, action, row: {logical_port: logicalPort, ip, mac, datapath: ['uuid', dp], timestamp: 0}}
}

function staticBinding(uuid: string, logicalPort: string, ip: string, mac: string, override: boolean): ReplicaEvent {
  return {table: 'Static_MAC_Binding', uuid, action: 'insert', row: {logical_port: logicalPort, ip, mac, override_dynamic_mac: override, datapath: ['uuid', lr0]}}
}

function index(...events: ReplicaEvent[]): SbIndex {
  const sb = new SbIndex()
  sb.apply([datapath(lr0, 3, 'lr0'), datapath(sw9, 9, 'lr9'), port('00000001-0000-4000-8000-000000000000', 'lr0-sw0', lr0, 1), port('00000002-0000-4000-8000-000000000000', 'lr0-sw1', lr0, 2), port('00000009-0000-4000-8000-000000000000', 'lr9-p', sw9, 4), ...events])
  return sb
}

function lines(sb: SbIndex, local: string[] = [lr0]): {flows: string[]; errors: string[]} {
  const r = macBindingFlows({bindings: sb.macBindings.values(), portByName: sb.portsByName, datapaths: sb.datapaths, local: new Set(local)})
  return {flows: r.flows.map(formatFlow).sort(), errors: r.errors}
}

describe('MAC binding flows (tables 66 and 67)', () => {
  it('turns an IPv4 MAC_Binding into the get_arp and lookup_arp flows the real ovn-controller installs', () => {
    const r = lines(index(binding('c7d5f466-ebaf-4bb5-b0ef-2ae850724213', 'lr0-sw1', '10.0.1.12', '00:00:00:00:01:02')))
    assert.deepEqual(r.errors, [])
    assert.deepEqual(r.flows, [
      'cookie=0xc7d5f466, table=66, priority=100,reg0=0xa00010c,reg15=0x2,metadata=0x3 actions=set_field:00:00:00:00:01:02->eth_dst,set_field:0x40/0x40->reg10',
      'cookie=0xc7d5f466, table=67, priority=100,arp,reg0=0xa00010c,reg14=0x2,metadata=0x3,dl_src=00:00:00:00:01:02 actions=set_field:0x40/0x40->reg10',
    ])
  })

  it('turns an IPv6 MAC_Binding into the get_nd and lookup_nd flows on xxreg0 the real ovn-controller installs', () => {
    const r = lines(index(binding('a868e410-4bf6-4e85-a581-31b2c49039d9', 'lr0-sw1', 'fd01::12', '00:00:00:00:01:02')))
    assert.deepEqual(r.errors, [])
    assert.deepEqual(r.flows, [
      'cookie=0xa868e410, table=66, priority=100,reg0=0xfd010000,reg1=0,reg2=0,reg3=0x12,reg15=0x2,metadata=0x3 actions=set_field:00:00:00:00:01:02->eth_dst,set_field:0x40/0x40->reg10',
      'cookie=0xa868e410, table=67, priority=100,icmp6,reg0=0xfd010000,reg1=0,reg2=0,reg3=0x12,reg14=0x2,metadata=0x3,dl_src=00:00:00:00:01:02,icmp_code=0 actions=set_field:0x40/0x40->reg10',
    ])
  })

  it('gives a static binding priority 50, below a learned one, and 150 when it overrides dynamic MACs', () => {
    const r = lines(index(staticBinding('373a07ea-a540-4055-af07-93ead0beb41c', 'lr0-sw0', '10.0.0.50', '00:00:00:00:00:50', false), staticBinding('930eb5d0-63fb-4538-96b1-388571596fd5', 'lr0-sw0', 'fd00::50', '00:00:00:00:00:51', true)))
    assert.deepEqual(r.errors, [])
    assert.deepEqual(r.flows, [
      'cookie=0x373a07ea, table=66, priority=50,reg0=0xa000032,reg15=0x1,metadata=0x3 actions=set_field:00:00:00:00:00:50->eth_dst,set_field:0x40/0x40->reg10',
      'cookie=0x373a07ea, table=67, priority=50,arp,reg0=0xa000032,reg14=0x1,metadata=0x3,dl_src=00:00:00:00:00:50 actions=set_field:0x40/0x40->reg10',
      'cookie=0x930eb5d0, table=66, priority=150,reg0=0xfd000000,reg1=0,reg2=0,reg3=0x50,reg15=0x1,metadata=0x3 actions=set_field:00:00:00:00:00:51->eth_dst,set_field:0x40/0x40->reg10',
      'cookie=0x930eb5d0, table=67, priority=150,icmp6,reg0=0xfd000000,reg1=0,reg2=0,reg3=0x50,reg14=0x1,metadata=0x3,dl_src=00:00:00:00:00:51,icmp_code=0 actions=set_field:0x40/0x40->reg10',
    ])
  })

  it('names each bad row (unparsable ip or mac, unknown port) and still makes the flows of the good ones', () => {
    const r = lines(index(
      binding('c7d5f466-ebaf-4bb5-b0ef-2ae850724213', 'lr0-sw1', '10.0.1.12', '00:00:00:00:01:02'),
      binding('850356bb-e249-4fea-be40-05594946c78f', 'lr0-sw1', 'bogus', '00:00:00:00:01:03'),
      binding('b160fcbe-de9a-41c6-b4ca-ddcb821c835e', 'lr0-sw1', '10.0.1.14', 'zz'),
      binding('fd9a4a7d-a171-4a01-9a1c-a402a8fff2be', 'nosuch', '10.0.1.13', '00:00:00:00:01:03'),
    ))
    assert.equal(r.flows.length, 2)
    assert.ok(r.flows.every((f) => f.startsWith('cookie=0xc7d5f466,')))
    assert.deepEqual(r.errors.sort(), [
      'MAC_Binding 850356bb (logical_port "lr0-sw1", ip "bogus", mac "00:00:00:00:01:03") not installed: bad ip "bogus"',
      'MAC_Binding b160fcbe (logical_port "lr0-sw1", ip "10.0.1.14", mac "zz") not installed: bad mac "zz"',
      'MAC_Binding fd9a4a7d (logical_port "nosuch", ip "10.0.1.13", mac "00:00:00:00:01:03") not installed: unknown logical port "nosuch"',
    ])
  })

  it('makes no flows for the bindings of a datapath that is not local, and forgets a deleted row', () => {
    const sb = index(binding('c7d5f466-ebaf-4bb5-b0ef-2ae850724213', 'lr0-sw1', '10.0.1.12', '00:00:00:00:01:02'), binding('abcdef01-0000-4000-8000-000000000000', 'lr9-p', '10.9.0.1', '00:00:00:00:09:01', sw9))
    assert.deepEqual(lines(sb).flows.filter((f) => f.includes('metadata=0x9')), [])
    assert.equal(lines(sb, [lr0, sw9]).flows.filter((f) => f.includes('metadata=0x9')).length, 2)
    sb.apply([binding('c7d5f466-ebaf-4bb5-b0ef-2ae850724213', 'lr0-sw1', '10.0.1.12', '00:00:00:00:01:02', lr0, 'delete')])
    assert.deepEqual(lines(sb), {flows: [], errors: []})
  })

  it('keeps the flows of unchanged rows across runs and remakes those whose row or port changed', () => {
    const sb = index(binding('c7d5f466-ebaf-4bb5-b0ef-2ae850724213', 'lr0-sw1', '10.0.1.12', '00:00:00:00:01:02'), binding('a868e410-4bf6-4e85-a581-31b2c49039d9', 'lr0-sw0', 'fd00::12', '00:00:00:00:00:12'))
    const cache = new MacBindingFlowCache()
    const input = () => ({bindings: sb.macBindings.values(), portByName: sb.portsByName, datapaths: sb.datapaths, local: new Set([lr0])})
    const first = cache.flows(input()).flows
    assert.equal(first.length, 4)
    const second = cache.flows(input()).flows
    assert.ok(second.every((f, i) => f === first[i]), 'the same flow objects')
    // lr0-sw1 gets tunnel key 7: its binding's flows are remade, the other binding's kept.
    sb.apply([port('00000002-0000-4000-8000-000000000000', 'lr0-sw1', lr0, 7)])
    const third = cache.flows(input()).flows
    assert.deepEqual(third.map(formatFlow).filter((f) => f.startsWith('cookie=0xc7d5f466')).map((f) => /reg1[45]=0x\w+/.exec(f)![0]).sort(), ['reg14=0x7', 'reg15=0x7'])
    assert.ok(third.filter((f) => f.cookie === 0xa868e410n).every((f) => first.includes(f)))
    assert.deepEqual(third.map(formatFlow).sort(), macBindingFlows(input()).flows.map(formatFlow).sort(), 'the same flows as made from scratch')
    sb.apply([binding('a868e410-4bf6-4e85-a581-31b2c49039d9', 'lr0-sw0', 'fd00::12', '00:00:00:00:00:12', lr0, 'delete')])
    assert.equal(cache.flows(input()).flows.length, 2)
  })
})
