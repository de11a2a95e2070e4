import assert from 'node:assert/strict'
import {DesiredTable, desiredKey, type TableChanges} from '../../src/core/controller/desired-table.js'
import type {DesiredFlow} from '../../src/core/controller/lflow.js'

const flow = (origin: string, matchText: string, actions: string, table = 8): DesiredFlow => ({table, priority: 100, cookie: 1n, match: new Map(), matchText, actions, origin})

/** The identities of changes tracked one by one. */
function keys(changes: TableChanges): string[] {
  assert.equal(changes.all, false, 'changes tracked one by one')
  return changes.all ? [] : [...changes.keys]
}

describe('the desired flow table', () => {
  it('reports as changed only the identities whose sources added or removed flows since the last take', () => {
    const t = new DesiredTable()
    const a = [flow('a', 'metadata=0x1', 'resubmit(,9)'), flow('a', 'metadata=0x2', 'resubmit(,9)')]
    const b = [flow('b', 'metadata=0x3', 'drop')]
    t.add(a)
    t.add(b)
    assert.equal(keys(t.takeChanges()).length, 3)
    assert.equal(keys(t.takeChanges()).length, 0, 'nothing changed since')
    t.remove(b)
    assert.deepEqual(keys(t.takeChanges()), [desiredKey(b[0])])
    assert.equal(t.get(desiredKey(b[0])), undefined)
    assert.equal(t.size, 2)
  })

  it('merges the conjunction clauses of several logical flows in UUID order, whatever order they came in', () => {
    const x = flow('00000002', 'metadata=0x1,reg14=0x1', 'conjunction(7,1/2)')
    const y = flow('00000001', 'metadata=0x1,reg14=0x1', 'conjunction(3,2/2)')
    const one = new DesiredTable()
    one.add([x])
    one.add([y])
    const other = new DesiredTable()
    other.add([y])
    other.add([x])
    const key = desiredKey(x)
    assert.equal(one.get(key)?.actions, 'conjunction(3,2/2),conjunction(7,1/2)')
    assert.equal(other.get(key)?.actions, 'conjunction(3,2/2),conjunction(7,1/2)')
    one.remove([y])
    assert.equal(one.get(key)?.actions, 'conjunction(7,1/2)', 'the clause of the removed flow leaves with it')
  })

  it('keeps the lowest UUID\'s flow when two logical flows yield one identity with different actions', () => {
    const t = new DesiredTable()
    t.add([flow('00000009', 'metadata=0x1', 'drop')])
    t.add([flow('00000004', 'metadata=0x1', 'resubmit(,9)')])
    assert.equal(t.get(desiredKey(flow('', 'metadata=0x1', '')))?.origin, '00000004')
  })

  it('replaces a source recomputed whole, touching only the flows that differ', () => {
    const t = new DesiredTable()
    const before = [flow('physical:a', 'in_port=1', 'resubmit(,8)', 0), flow('physical:b', 'in_port=2', 'resubmit(,8)', 0)]
    let held = t.replace([], before)
    t.takeChanges()
    held = t.replace(held, [flow('physical:a', 'in_port=1', 'resubmit(,8)', 0), flow('physical:b', 'in_port=2', 'drop', 0), flow('physical:c', 'in_port=3', 'drop', 0)])
    assert.deepEqual(keys(t.takeChanges()).sort(), ['0/100/in_port=2', '0/100/in_port=3'])
    assert.equal(held.length, 3)
    assert.equal(t.get('0/100/in_port=2')?.actions, 'drop')
    t.replace(held, [])
    assert.equal(t.size, 0)
  })

  it('counts every identity changed after it was emptied, and tracks them one by one again after the take', () => {
    const t = new DesiredTable()
    t.add([flow('a', 'metadata=0x1', 'drop')])
    t.takeChanges()
    t.clear()
    t.add([flow('a', 'metadata=0x2', 'drop')])
    assert.deepEqual(t.takeChanges(), {all: true})
    assert.deepEqual([...t.flows()].map((f) => f.matchText), ['metadata=0x2'])
    t.add([flow('b', 'metadata=0x3', 'drop')])
    assert.deepEqual(keys(t.takeChanges()), ['8/100/metadata=0x3'])
  })
})
