import assert from 'node:assert/strict'
import fc from 'fast-check'
import {mix, seeds, trailingZeros} from '../../src/core/digest/mix.js'
import type {Digest} from '../../src/core/digest/siphash.js'
import {estimateDifference, StrataEstimator} from '../../src/core/digest/strata.js'

/** Two estimators over `shared` common digests and `d` digests on one side or the other, from a seed. */
function pair(seed: number, shared: number, d: number): [StrataEstimator, StrataEstimator] {
  let s = seed | 1
  const next = () => ((s ^= s << 13), (s ^= s >>> 17), (s ^= s << 5), s >>> 0)
  const a = new StrataEstimator()
  const b = new StrataEstimator()
  for (let i = 0; i < shared; i++) {
    const digest = {hi: next(), lo: next()}
    a.add(digest)
    b.add(digest)
  }
  for (let i = 0; i < d; i++) (i % 2 === 0 ? a : b).add({hi: next(), lo: next()})
  return [a, b]
}

describe('strata estimator', () => {
  it('gives the exact difference, nearly always, when it is small enough for every stratum to decode', () => {
    let runs = 0
    let inexact = 0
    fc.assert(
      fc.property(fc.integer(), fc.nat({max: 500}), fc.nat({max: 8}), (seed, shared, d) => {
        runs++
        const [a, b] = pair(seed, shared, d)
        const estimate = estimateDifference(a, b)
        if (estimate !== d) inexact++
        assert.ok(estimate >= d / 2 && estimate <= d * 2, `seed ${seed}, ${shared} shared, d = ${d}: estimate ${estimate}`)
      }),
      {numRuns: 200, seed: 42},
    )
    assert.ok(inexact <= runs * 0.05, `${inexact} of ${runs} estimates inexact`)
  })

  it('estimates d = 1000 within a factor of two in nearly every trial', () => {
    const ratios = Array.from({length: 20}, (_, seed) => {
      const [a, b] = pair(seed + 1, 100, 1000)
      return estimateDifference(a, b) / 1000
    })
    const outside = ratios.filter((r) => r < 0.5 || r > 2)
    assert.ok(outside.length <= 1, `ratios estimate/true: ${ratios.map((r) => r.toFixed(2)).join(' ')}`)
  })

  it('reports Infinity when the difference is beyond its top stratum', () => {
    const [a, b] = pair(3, 0, 200_000)
    assert.equal(estimateDifference(a, b), Infinity)
  })

  it('does not give up when two digests stick together in the top stratum by coincidence', () => {
    // Two digests of the top stratum whose 16-bit keys pick the same cell in every sub-table: that stratum
    // cannot peel them, although it holds almost nothing.
    const probe = new StrataEstimator()
    const top = probe.shape.strata - 1
    const cellsOf = (d: Digest) => {
      const key = d.hi ^ d.lo
      const key16 = (key ^ (key >>> 16)) & 0xffff
      return Array.from({length: probe.shape.k}, (_, j) => probe.strata[top].cellOf(j, 0, key16)).join(',')
    }
    const seen = new Map<string, Digest>()
    let stuck: [Digest, Digest] | undefined
    for (let i = 0; stuck === undefined && i < 10_000_000; i++) {
      const d = {hi: mix(i, 0, 0x1234), lo: mix(i, 1, 0x1234)}
      if (trailingZeros(mix(d.hi, d.lo, seeds.stratum)) < top) continue
      const other = seen.get(cellsOf(d))
      if (other !== undefined && ((other.hi ^ other.lo) & 0xffff) !== ((d.hi ^ d.lo) & 0xffff)) stuck = [other, d]
      seen.set(cellsOf(d), d)
    }
    assert.ok(stuck, 'no pair found')
    const [a, b] = pair(11, 100, 300)
    a.add(stuck[0])
    a.add(stuck[1])
    const estimate = estimateDifference(a, b)
    assert.ok(estimate >= 151 && estimate <= 604, `estimate ${estimate} for a difference of 302`)
  })

  it('is back to empty after removing what was added', () => {
    const [a] = pair(5, 50, 10)
    const [, b] = pair(5, 50, 10)
    const [c] = pair(5, 50, 10)
    // a and c hold the same digests; subtracting them must estimate 0 while b differs.
    assert.equal(estimateDifference(a, c), 0)
    assert.equal(estimateDifference(a, b), 10)
  })
})
