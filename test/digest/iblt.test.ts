import assert from 'node:assert/strict'
import fc from 'fast-check'
import {Iblt, peel, tableSizeAtLeast} from '../../src/core/digest/iblt.js'
import {digestHex} from '../../src/core/digest/row-digest.js'
import type {Digest} from '../../src/core/digest/siphash.js'

const digestArb = fc.tuple(fc.nat({max: 0xffffffff}), fc.nat({max: 0xffffffff})).map(([hi, lo]) => ({hi, lo}))
/** Distinct digests, split into those only on the local side, only on the remote side, and shared. */
const setsArb = fc
  .uniqueArray(digestArb, {maxLength: 400, selector: digestHex})
  .chain((all) => fc.tuple(fc.constant(all), fc.nat({max: all.length}), fc.nat({max: all.length})))
  .map(([all, a, b]) => {
    const [x, y] = [Math.min(a, b), Math.max(a, b)]
    return {onlyLocal: all.slice(0, Math.min(x, 40)), onlyRemote: all.slice(x, Math.min(y, x + 40)), shared: all.slice(y)}
  })

function tableOf(digests: readonly Digest[], k: number, subCells: number): Iblt {
  const t = new Iblt(k, subCells)
  for (const d of digests) t.add(d)
  return t
}

const sorted = (ds: readonly Digest[]) => ds.map(digestHex).sort()

describe('IBLT', () => {
  it('peels the exact symmetric difference when the table has room for it, failing only rarely', () => {
    let runs = 0
    let failures = 0
    fc.assert(
      fc.property(setsArb, fc.constantFrom(3, 4), ({onlyLocal, onlyRemote, shared}, k) => {
        runs++
        const d = onlyLocal.length + onlyRemote.length
        const subCells = Math.ceil((3 * d + 30) / k)
        const local = tableOf([...shared, ...onlyLocal], k, subCells)
        const remote = tableOf([...onlyRemote, ...shared], k, subCells)
        const result = peel(local.subtract(remote))
        // Peeling can get stuck on a small core (two elements sharing all their cells) even with room: that is a
        // reported failure, allowed rarely; a wrong answer is never allowed.
        if (!result.ok) return void failures++
        assert.deepEqual(sorted(result.onlyLocal), sorted(onlyLocal), `d = ${d}, k = ${k}, ${subCells} cells per sub-table`)
        assert.deepEqual(sorted(result.onlyRemote), sorted(onlyRemote), `d = ${d}, k = ${k}, ${subCells} cells per sub-table`)
      }),
      {numRuns: 300, seed: 20240601},
    )
    assert.ok(failures <= runs * 0.03, `${failures} of ${runs} tables failed to peel`)
  })

  it('never returns a wrong answer from an undersized table: it reports the failure', () => {
    fc.assert(
      fc.property(setsArb, fc.integer({min: 1, max: 8}), ({onlyLocal, onlyRemote, shared}, subCells) => {
        const result = peel(tableOf([...shared, ...onlyLocal], 4, subCells).subtract(tableOf([...shared, ...onlyRemote], 4, subCells)))
        if (!result.ok) return
        assert.deepEqual(sorted(result.onlyLocal), sorted(onlyLocal), `${subCells} cells per sub-table`)
        assert.deepEqual(sorted(result.onlyRemote), sorted(onlyRemote), `${subCells} cells per sub-table`)
      }),
      {numRuns: 200},
    )
  })

  it('reports "stuck" for a difference far larger than the table', () => {
    const digests = Array.from({length: 200}, (_, i) => ({hi: i * 7919, lo: i * 104729 + 1}))
    const result = peel(tableOf(digests, 4, 10))
    assert.deepEqual(result.ok ? 'ok' : result.reason, 'stuck')
  })

  it('reports "inconsistent" for a cell that passes the checksum but holds an element that does not hash there', () => {
    const t = tableOf([{hi: 1, lo: 2}], 4, 16)
    const home = t.cellOf(0, 1, 2)
    const elsewhere = (home + 1) % 16
    for (const arr of [t.count, t.keyHi, t.keyLo, t.hash]) [arr[home], arr[elsewhere]] = [arr[elsewhere], arr[home]]
    const result = peel(t)
    assert.deepEqual(result.ok ? 'ok' : result.reason, 'inconsistent')
  })

  it('detects a single corrupted cell value instead of answering', () => {
    fc.assert(
      fc.property(setsArb, fc.nat(), fc.integer({min: 0, max: 3}), fc.integer({min: 1, max: 0xffffffff}), (sets, at, field, flip) => {
        const local = tableOf([...sets.shared, ...sets.onlyLocal], 4, 64)
        const diff = local.subtract(tableOf([...sets.shared, ...sets.onlyRemote], 4, 64))
        const cell = at % diff.cells
        const arr = [diff.count, diff.keyHi, diff.keyLo, diff.hash][field]
        arr[cell] = field === 0 ? arr[cell] + ((flip % 255) + 1) : (arr[cell] ^ flip) >>> 0
        const result = peel(diff)
        assert.equal(result.ok, false, `cell ${cell} field ${field} flipped by ${flip} still peeled: ${JSON.stringify(result)}`)
      }),
      {numRuns: 200},
    )
  })

  it('folds a large table into exactly the table built at the smaller size', () => {
    fc.assert(
      fc.property(fc.array(digestArb, {maxLength: 300}), fc.constantFrom(1, 2, 3, 5, 7, 12, 35, 60, 420), (digests, small) => {
        const folded = tableOf(digests, 4, 420).fold(small)
        const direct = tableOf(digests, 4, small)
        assert.deepEqual([folded.count, folded.keyHi, folded.keyLo, folded.hash], [direct.count, direct.keyHi, direct.keyLo, direct.hash])
      }),
      {numRuns: 50},
    )
  })

  it('refuses to fold into a size that does not divide its own, and to subtract tables of different shapes', () => {
    assert.throws(() => new Iblt(4, 12).fold(5), /Cannot fold IBLT of 12 cells per sub-table into 5: not a divisor/)
    assert.throws(() => new Iblt(4, 12).subtract(new Iblt(4, 6)), /shapes differ/)
    assert.throws(() => new Iblt(5, 12), /Cannot use IBLT with k = 5: 3 or 4 expected/)
  })

  it('returns to the empty table when every added digest is removed again', () => {
    fc.assert(
      fc.property(fc.array(digestArb, {maxLength: 100}), (digests) => {
        const t = tableOf(digests, 3, 17)
        for (const d of digests) t.remove(d)
        assert.ok(t.isEmpty(), `${digests.length} digests added and removed`)
      }),
    )
  })

  it('picks the smallest divisor of the maximum that holds the wanted size', () => {
    assert.deepEqual([1, 8, 9, 11, 100, 2520, 2521].map((n) => tableSizeAtLeast(n, 2520)), [1, 8, 9, 12, 105, 2520, undefined])
  })
})
