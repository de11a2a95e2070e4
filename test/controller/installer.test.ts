import assert from 'node:assert/strict'
import {DesiredTable} from '../../src/core/controller/desired-table.js'
import {Installer} from '../../src/core/controller/installer.js'
import type {DesiredFlow} from '../../src/core/controller/lflow.js'
import {parseInstalledFlow, type InstalledFlow} from '../../src/core/openflow/bundle.js'
import type {OfctlSwitch} from '../../src/core/openflow/switch.js'

// A drop flow has no actions, as the switch prints it back ("actions=drop").
const flow = (origin: string, matchText: string, actions: string): DesiredFlow => ({table: 8, priority: 100, cookie: 0n, match: new Map(), matchText, actions, origin})

/** A switch that holds what bundles tell it (in memory), and records the bundles and reads. */
function memorySwitch(initial: string[]) {
  const flows = new Map<string, InstalledFlow>(initial.map((l) => parseInstalledFlow(l)).map((f) => [f.matchText, f]))
  const calls = {dumps: 0, bundles: [] as string[][], fail: false}
  const sw = {
    dumpFlows: async () => (calls.dumps++, [...flows.values()]),
    dumpGroups: async () => new Map<number, string>(),
    ensureGeneveOption: async () => {},
    applyBundle: async (lines: readonly string[]) => {
      if (calls.fail) throw new Error('switch unreachable')
      calls.bundles.push([...lines])
    },
  }
  return {sw: sw as unknown as OfctlSwitch, calls}
}

describe('installing the desired table', () => {
  it('compares the whole table once after reading the switch, then only the identities reported changed', async () => {
    const {sw, calls} = memorySwitch([' table=8, priority=100,metadata=0x1 actions=drop', ' table=8, priority=100,metadata=0x9 actions=drop'])
    const table = new DesiredTable()
    const installer = new Installer()
    table.add([flow('a', 'metadata=0x1', ''), flow('b', 'metadata=0x2', '')])
    const first = await installer.install(sw, {table, groups: [], changed: table.takeChanges()}, {geneve: false})
    assert.deepEqual(calls.bundles[0], ['flow delete_strict table=8,priority=100,metadata=0x9', 'flow add table=8,priority=100,metadata=0x2,actions=drop'], 'the stale flow found in the switch goes')
    assert.equal(first.flows, 2)
    const b = [...table.flows()].find((f) => f.origin === 'b')!
    table.remove([b])
    table.add([flow('c', 'metadata=0x3', 'resubmit(,9)')])
    await installer.install(sw, {table, groups: [], changed: table.takeChanges()}, {geneve: false})
    assert.deepEqual(calls.bundles[1], ['flow delete_strict table=8,priority=100,metadata=0x2', 'flow add table=8,priority=100,metadata=0x3,actions=resubmit(,9)'])
    assert.equal(calls.dumps, 1, 'the switch is read once')
  })

  it('reads the switch again and compares everything after an install failed', async () => {
    const {sw, calls} = memorySwitch([])
    const table = new DesiredTable()
    const installer = new Installer()
    table.add([flow('a', 'metadata=0x1', '')])
    await installer.install(sw, {table, groups: [], changed: table.takeChanges()}, {geneve: false})
    table.add([flow('b', 'metadata=0x2', '')])
    calls.fail = true
    await assert.rejects(installer.install(sw, {table, groups: [], changed: table.takeChanges()}, {geneve: false}), /switch unreachable/)
    calls.fail = false
    const result = await installer.install(sw, {table, groups: [], changed: table.takeChanges()}, {geneve: false})
    assert.equal(calls.dumps, 2)
    assert.equal(result.lines, 2, 'both flows, since the memory switch kept neither bundle: the change taken by the failed run is not lost')
  })
})
