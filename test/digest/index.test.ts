import assert from 'node:assert/strict'
import fc from 'fast-check'
import {DigestIndex} from '../../src/core/digest/index.js'

const digestArb = fc.tuple(fc.nat({max: 0xffffffff}), fc.nat({max: 0xffffffff})).map(([hi, lo]) => ({hi, lo}))
const opArb = fc.tuple(fc.constantFrom('r1', 'r2', 'r3', 'r4', 'r5', 'r6'), fc.option(digestArb))
const options = {subCellsMax: 60}

describe('DigestIndex', () => {
  it('after any sequence of changes holds the same sketch as an index built from the final rows', () => {
    fc.assert(
      fc.property(fc.array(opArb, {maxLength: 60}), (ops) => {
        const live = new DigestIndex(options)
        for (const [row, digest] of ops) {
          if (digest === null) live.delete(row)
          else live.set(row, digest)
        }
        const rebuilt = new DigestIndex(options)
        for (const row of live.rows()) rebuilt.set(row, live.digestOf(row)!)
        assert.deepEqual(live.summary(), rebuilt.summary(), `ops ${JSON.stringify(ops)}`)
        const [a, b] = [live.tableOf(60), rebuilt.tableOf(60)]
        assert.deepEqual([[...a.count], a.keyHi, a.keyLo, a.hash], [[...b.count], b.keyHi, b.keyLo, b.hash])
        assert.deepEqual(live.estimator().strata.map((s) => [...s.count]), rebuilt.estimator().strata.map((s) => [...s.count]))
        for (const row of live.rows()) assert.equal(live.rowOf(live.digestOf(row)!), row)
      }),
    )
  })

  it('counts rows whose digests collide, and forgets the collision once one of them leaves', () => {
    const index = new DigestIndex(options)
    index.set('a', {hi: 1, lo: 1})
    index.set('b', {hi: 1, lo: 1})
    index.set('c', {hi: 1, lo: 1})
    assert.equal(index.collisions, 2)
    index.delete('a')
    assert.equal(index.collisions, 1)
    assert.ok(['b', 'c'].includes(index.rowOf({hi: 1, lo: 1})!), `row of the digest: ${index.rowOf({hi: 1, lo: 1})}`)
    index.delete('c')
    assert.deepEqual([index.collisions, index.rowOf({hi: 1, lo: 1})], [0, 'b'])
  })

  it('treats setting the same digest again as no change, and deleting an absent row as false', () => {
    const index = new DigestIndex(options)
    index.set('a', {hi: 5, lo: 6})
    const before = index.summary()
    index.set('a', {hi: 5, lo: 6})
    assert.deepEqual([index.summary(), index.size, index.delete('zz')], [before, 1, false])
  })
})
