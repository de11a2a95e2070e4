import assert from 'node:assert/strict'
import fc from 'fast-check'
import {parseActions} from '../../src/core/pipeline/actions-parser.js'
import {formatActions} from '../../src/core/pipeline/actions.js'
import {encodeActions} from '../../src/core/pipeline/actions-encode.js'
import {actionContext} from './actions-context.js'

const ctx = actionContext({actions: ''})

/** `regN[lo..hi] = V;` with V fitting the range. */
const registerLoad = fc
  .record({reg: fc.integer({min: 0, max: 9}), lo: fc.integer({min: 0, max: 31}), len: fc.integer({min: 1, max: 32}), seed: fc.bigInt({min: 0n, max: (1n << 32n) - 1n})})
  .map(({reg, lo, len, seed}) => {
    const hi = Math.min(31, lo + len - 1)
    const value = seed & ((1n << BigInt(hi - lo + 1)) - 1n)
    return {reg, lo, hi, value, text: `reg${reg}[${lo}..${hi}] = ${value};`}
  })

describe('register assignments (property)', () => {
  it('write exactly the bits named, in the wide register that holds them, and print back canonically', () => {
    fc.assert(
      fc.property(registerLoad, ({reg, lo, hi, value, text}) => {
        const actions = parseActions(text, ctx.symtab)
        assert.deepEqual(parseActions(formatActions(actions), ctx.symtab), actions, text)
        const [a] = encodeActions(actions, ctx).actions
        assert.equal(a.type, 'set_field', text)
        if (a.type !== 'set_field') return
        // ovn-architecture(7): reg0..reg7 are the 32-bit quarters of xxreg0/xxreg1 (reg0 highest), reg8/reg9 halves of xreg4.
        const [field, base] = reg < 8 ? [`xxreg${reg >> 2}`, 32 * (3 - (reg % 4))] : ['xreg4', reg === 8 ? 32 : 0]
        assert.equal(a.field, field, text)
        const shift = BigInt(base + lo)
        assert.equal(a.mask, ((1n << BigInt(hi - lo + 1)) - 1n) << shift, text)
        assert.equal(a.value, value << shift, text)
      }),
      {numRuns: 300},
    )
  })
})
