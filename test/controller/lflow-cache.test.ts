import assert from 'node:assert/strict'
import type {ReplicaEvent} from '../../src/core/idl/replica.js'
import {FlowEngine} from '../../src/core/controller/engine.js'
import {SbIndex} from '../../src/core/controller/sb-index.js'
import {LflowCache, RecordingEnv, type LookupEnv} from '../../src/core/controller/lflow-cache.js'
import type {Datapath, LogicalFlow} from '../../src/core/controller/sb-model.js'
import {formatFlow} from '../../src/core/openflow/flow.js'

const uuid = (n: number) => `${n.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`
const ref = (n: number) => ['uuid', uuid(n)]

function dp(n: number, key: number, name: string, router = false): ReplicaEvent {
  return {table: 'Datapath_Binding', uuid: uuid(n), action: 'insert', row: {tunnel_key: key, external_ids: ['map', [['name', name], [router ? 'logical-router' : 'logical-switch', uuid(n)]]]}}
}

function port(n: number, name: string, datapath: number, key: number, action: 'insert' | 'modify' = 'insert'): ReplicaEvent {
  return {table: 'Port_Binding', uuid: uuid(n), action, row: {logical_port: name, datapath: ref(datapath), tunnel_key: key, type: '', options: ['map', []], chassis: ['set', []], up: ['set', []], mac: ['set', []]}}
}

function lflow(n: number, table: number, match: string, actions: string, action: 'insert' | 'modify' = 'insert'): ReplicaEvent {
  const row = {logical_datapath: ref(n === 0x1009 ? 3 : 1), logical_dp_group: ['set', []], pipeline: 'ingress', table_id: table, priority: 100, match, actions, external_ids: ['map', [['stage-name', `ls_in_t${table}`]]]}
  return {table: 'Logical_Flow', uuid: uuid(n), action, row}
}

const named = (table: 'Address_Set' | 'Port_Group', n: number, name: string, column: string, members: string[]): ReplicaEvent => ({table, uuid: uuid(n), action: 'modify', row: {name, [column]: ['set', members]}})

/** Switches sw (key 1, ports a, b, c) and sw2 (key 3), flows that look up ports, sets, groups and residency. */
function topology(): ReplicaEvent[] {
  return [
    dp(1, 1, 'sw'),
    dp(3, 3, 'sw2'),
    port(0x101, 'a', 1, 1),
    port(0x102, 'b', 1, 2),
    port(0x103, 'c', 1, 3),
    port(0x301, 'd', 3, 1),
    {...named('Address_Set', 0x401, 'as1', 'addresses', ['10.0.0.1', '10.0.0.2']), action: 'insert'},
    {...named('Port_Group', 0x501, '1_pg1', 'ports', ['a', 'b']), action: 'insert'},
    lflow(0x1001, 0, 'inport == "a"', 'next;'),
    lflow(0x1002, 1, 'ip4.src == $as1 && tcp.dst == {80, 443}', 'drop;'),
    lflow(0x1003, 2, 'outport == @pg1 && ip4.src == $as1', 'next;'),
    lflow(0x1004, 3, 'is_chassis_resident("b") && ip4', 'next;'),
    lflow(0x1005, 4, 'ip6', 'outport = "c"; output;'),
    lflow(0x1006, 5, 'inport == {"a", "b"} && ip4.dst == {10.0.0.1, 10.0.0.2}', 'next;'),
    lflow(0x1007, 6, 'ip4.dst == $as1', 'next;'),
    lflow(0x1008, 7, '1', 'next;'),
    lflow(0x1009, 0, 'inport == "d"', 'next;'),
  ]
}

/**
 * The engine's desired table as sorted text, conjunction ids renamed by the flow that carries them (a warm
 * engine keeps each logical flow's ids across compilations, a cold one numbers them afresh).
 */
function canonical(engine: FlowEngine): string[] {
  engine.desired([])
  const lines = [...engine.table.flows()].map(formatFlow)
  const byId = new Map<string, string>()
  for (const l of lines) {
    const id = /conj_id=(\d+)/.exec(l)?.[1]
    if (id !== undefined) byId.set(id, l.replace(/conj_id=\d+/, 'conj_id=?'))
  }
  const rename = new Map([...byId].sort((x, y) => (x[1] < y[1] ? -1 : 1)).map(([id], i) => [id, `C${i}`]))
  const renamed = (id: string) => rename.get(id) ?? `unknown ${id}`
  return lines.map((l) => l.replace(/conj_id=(\d+)/, (_, id: string) => `conj_id=${renamed(id)}`).replace(/conjunction\((\d+),/g, (_, id: string) => `conjunction(${renamed(id)},`)).sort()
}

describe('the lflow cache', () => {
  const local = new Set([uuid(1), uuid(3)])

  /** A warm engine and a way to compare it with a cold compile of the same Southbound and chassis state. */
  function setup() {
    const sb = new SbIndex()
    sb.apply(topology())
    const chassis = {resident: new Set<string>(), localPorts: new Set(['a', 'b'])}
    const engine = (): FlowEngine => {
      const e = new FlowEngine(sb, (p) => chassis.resident.has(p))
      e.setLocalPorts(new Set(chassis.localPorts))
      return e
    }
    const warm = engine()
    warm.recompute(local)
    const cold = (): string[] => {
      const e = engine()
      e.recompute(local)
      return canonical(e)
    }
    return {sb, chassis, warm, cold}
  }

  it('serves every logical flow of a recompute from the cache when nothing they looked up changed, with the same table', () => {
    const {warm, cold} = setup()
    const before = canonical(warm)
    const run = warm.recompute(local)
    assert.equal(run.compiled, 9)
    assert.equal(run.fromCache, 9, 'no lookup changed: all from the cache')
    assert.deepEqual(canonical(warm), before)
    assert.deepEqual(canonical(warm), cold())
  })

  it('compiles every logical flow cold after the cache is flushed, to the same table', () => {
    const {warm} = setup()
    const before = canonical(warm)
    warm.flushCache()
    assert.equal(warm.cachedFlows, 0)
    const run = warm.recompute(local)
    assert.deepEqual([run.compiled, run.fromCache, warm.cachedFlows], [9, 0, 9])
    assert.deepEqual(canonical(warm), before)
  })

  const changes: Array<[string, (s: ReturnType<typeof setup>) => void, number]> = [
    ['a port\'s tunnel key', (s) => s.sb.apply([port(0x102, 'b', 1, 7, 'modify')]), 2],
    ['an address set\'s addresses', (s) => s.sb.apply([named('Address_Set', 0x401, 'as1', 'addresses', ['10.0.0.9', '10.0.1.0/24', '10.0.0.1'])]), 3],
    ['a port group\'s ports', (s) => s.sb.apply([named('Port_Group', 0x501, '1_pg1', 'ports', ['a', 'b', 'c'])]), 0],
    ['which ports are local (the local members of a port group)', (s) => s.chassis.localPorts.delete('b'), 1],
    ['which ports are resident on this chassis', (s) => s.chassis.resident.add('b'), 1],
    ['a port\'s removal', (s) => s.sb.apply([{...port(0x103, 'c', 1, 3), action: 'delete'}]), 1],
    ['a datapath\'s tunnel key (its row read again)', (s) => s.sb.apply([{...dp(1, 5, 'sw'), action: 'modify'}]), 8],
    ['a logical flow\'s match', (s) => s.sb.apply([lflow(0x1007, 6, 'ip4.src == $as1', 'next;', 'modify')]), 1],
  ]
  for (const [what, change, recompiled] of changes) {
    it(`recomputes after a change of ${what} to the table a cold compile makes, compiling again only the flows that looked it up`, () => {
      const s = setup()
      const before = canonical(s.warm)
      change(s)
      s.warm.setLocalPorts(new Set(s.chassis.localPorts))
      const run = s.warm.recompute(local)
      const expected = s.cold()
      assert.deepEqual(canonical(s.warm), expected)
      if (recompiled > 0) assert.notDeepEqual(expected, before, 'the change shows in the table')
      assert.equal(run.compiled - run.fromCache, recompiled, 'logical flows compiled again')
    })
  }

  it('gives the incremental path the same table as a cold compile after several changes in turn', () => {
    const s = setup()
    const steps = [
      () => s.sb.apply([port(0x102, 'b', 1, 9, 'modify')]),
      () => s.sb.apply([named('Address_Set', 0x401, 'as1', 'addresses', ['10.0.0.3'])]),
      () => s.sb.apply([named('Port_Group', 0x501, '1_pg1', 'ports', ['b', 'c'])]),
      () => s.sb.apply([port(0x102, 'b', 1, 2, 'modify')]),
    ]
    for (const [i, step] of steps.entries()) {
      const changed = step()
      assert.equal(s.warm.update(changed, local).full, false)
      assert.deepEqual(canonical(s.warm), s.cold(), `after step ${i + 1}`)
      s.warm.recompute(local)
      assert.deepEqual(canonical(s.warm), s.cold(), `after step ${i + 1} and a recompute`)
    }
  })
})

describe('LflowCache', () => {
  const dpA: Datapath = {uuid: uuid(1), key: 1, name: 'sw', isRouter: false} as Datapath
  const flow = (n: number, match = 'ip4'): LogicalFlow => ({uuid: uuid(n), match, actions: 'next;', pipeline: 'ingress', tableId: 0}) as LogicalFlow
  const env = (over: Partial<LookupEnv> = {}): LookupEnv => ({portKey: () => 1, isChassisResident: () => false, addressSets: new Map([['as1', ['10.0.0.1']]]), portGroup: () => ['a'], ...over})

  it('answers an entry only while its texts and every lookup it recorded answer the same', () => {
    const cache = new LflowCache<string>(10)
    const recorder = new RecordingEnv(env())
    recorder.portKey(dpA, 'a')
    recorder.isChassisResident('a')
    recorder.addressSets.get('as1')
    recorder.portGroup(dpA, 'pg1')
    cache.set(flow(1), new Map([[dpA.uuid, 'compiled']]), recorder.lookups)
    assert.equal(cache.get(flow(1), env())?.get(dpA.uuid), 'compiled')
    assert.equal(cache.get(flow(1), env({addressSets: new Map([['as1', ['10.0.0.1']]])}))?.get(dpA.uuid), 'compiled', 'equal contents in a new list')
    assert.equal(cache.get(flow(1, 'ip6'), env()), undefined, 'another match text')
    assert.equal(cache.get(flow(1), env({portKey: () => 2})), undefined, 'another tunnel key')
    assert.equal(cache.get(flow(1), env({isChassisResident: () => true})), undefined, 'another residency')
    assert.equal(cache.get(flow(1), env({addressSets: new Map([['as1', ['10.0.0.2']]])})), undefined, 'other addresses')
    assert.equal(cache.get(flow(1), env({portGroup: () => ['a', 'b']})), undefined, 'other local members')
  })

  it('starts empty again at its bound of entries, and forgets the flows retain does not keep', () => {
    const cache = new LflowCache<string>(2)
    for (const n of [1, 2]) cache.set(flow(n), new Map(), [])
    assert.equal(cache.size, 2)
    cache.set(flow(2), new Map(), [])
    assert.equal(cache.size, 2, 'replacing an entry is not a new one')
    cache.set(flow(3), new Map(), [])
    assert.equal(cache.size, 1, 'a third entry: the cache started again')
    assert.equal(cache.get(flow(1), env()), undefined)
    cache.set(flow(4), new Map(), [])
    cache.retain((u) => u === uuid(4))
    assert.deepEqual([cache.get(flow(3), env()), cache.get(flow(4), env())?.size], [undefined, 0])
  })
})
