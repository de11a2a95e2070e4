/**
 * The seeded sweep: many simulated runs, each replayable from its seed. SIM_SEEDS sets how many (default 300;
 * CI may run thousands), SIM_SEED runs one seed alone, SIM_SEED_BASE shifts the range.
 */
import assert from 'node:assert/strict'
import {Simulation} from './simulation.js'

const one = process.env.SIM_SEED
const count = Number(process.env.SIM_SEEDS ?? 300)
const base = Number(process.env.SIM_SEED_BASE ?? 1)
const seeds = one !== undefined ? [Number(one)] : Array.from({length: count}, (_, i) => base + i)

describe('simulated clusters under faults', function () {
  this.timeout(0)

  it(`keep every Raft safety property and converge after healing, for ${seeds.length} seeds`, () => {
    let acknowledged = 0
    for (const seed of seeds) {
      let result
      try {
        result = new Simulation(seed).run()
      } catch (err) {
        throw new Error(`Seed ${seed} crashed; replay with: SIM_SEED=${seed} npx mocha test/sim\n${(err as Error).stack}`)
      }
      assert.deepEqual(
        result.violations,
        [],
        `Seed ${seed} broke safety or liveness; replay with: SIM_SEED=${seed} npx mocha test/sim`,
      )
      acknowledged += result.acknowledged
    }
    assert.ok(acknowledged > 0, `expected proposals to be acknowledged across ${seeds.length} seeds, got ${acknowledged}`)
  })
})
