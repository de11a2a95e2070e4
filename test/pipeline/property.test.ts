import assert from 'node:assert/strict'
import fc from 'fast-check'
import {annotate, parseExpr} from '../../src/core/pipeline/annotate.js'
import {PipelineSemanticError} from '../../src/core/pipeline/errors.js'
import type {Expr, SetElem} from '../../src/core/pipeline/expr.js'
import {toMatches, type MatchResult} from '../../src/core/pipeline/matches.js'
import {field, makeSymbolTable, predicate, subfield} from '../../src/core/pipeline/symbols.js'
import {formatMatch, type Match} from '../../src/core/openflow/match.js'

/** Three small fields on registers: a (4-bit ordinal), b (3-bit ordinal), c (2-bit nominal). */
const symtab = makeSymbolTable([
  field('a', 4, 'reg0'),
  field('b', 3, 'reg1'),
  field('c', 2, 'reg2', {level: 'nominal'}),
  subfield('a.hi', 'a', 2, 3),
  predicate('p', 'a[0] == 1 && c == 2'),
])

type Packet = {a: number; b: number; c: number}
const widths: Record<string, number> = {a: 4, b: 3, c: 2}
const registers: Record<string, string> = {a: 'reg0', b: 'reg1', c: 'reg2'}

function fieldValue(p: Packet, name: string, lo?: number, hi?: number): {v: number; width: number} {
  const [base, off, w] = name === 'a.hi' ? ['a', 2, 2] : [name, 0, widths[name]]
  const whole = (p[base as keyof Packet] >> off) & ((1 << w) - 1)
  if (lo === undefined || hi === undefined) return {v: whole, width: w}
  return {v: (whole >> lo) & ((1 << (hi - lo + 1)) - 1), width: hi - lo + 1}
}

/** Reference semantics of a parsed match, straight from ovn-sb(5). */
function evaluate(e: Expr, p: Packet): boolean {
  switch (e.type) {
    case 'bool':
      return e.value
    case 'not':
      return !evaluate(e.arg, p)
    case 'and':
      return e.args.every((x) => evaluate(x, p))
    case 'or':
      return e.args.some((x) => evaluate(x, p))
    case 'sym':
      return e.field.name === 'p' ? evaluate(parseExpr('a[0] == 1 && c == 2', symtab), p) : fieldValue(p, e.field.name, e.field.lo, e.field.hi).v === 1
    case 'cmp': {
      const {v} = fieldValue(p, e.field.name, e.field.lo, e.field.hi)
      const test = (c: SetElem): boolean => {
        if (c.kind !== 'int') throw new Error('unexpected constant')
        const value = Number(c.value)
        const mask = c.mask === undefined ? undefined : Number(c.mask)
        switch (e.op) {
          case '==': return mask === undefined ? v === value : (v & mask) === value
          case '!=': return mask === undefined ? v !== value : (v & mask) !== value
          case '<': return v < value
          case '<=': return v <= value
          case '>': return v > value
          case '>=': return v >= value
        }
      }
      return e.op === '!=' ? e.values.every(test) : e.values.some(test)
    }
    default:
      throw new Error(`unexpected node ${e.type}`)
  }
}

function matchAccepts(m: Match, p: Packet): boolean {
  for (const [name, f] of m) {
    const logical = Object.keys(registers).find((k) => registers[k] === name)
    if (!logical) return false
    if ((BigInt(p[logical as keyof Packet]) & f.mask) !== f.value) return false
  }
  return true
}

/** A packet passes the flow table when one plain match, or every clause set of a conjunction, accepts it. */
function flowsAccept(r: MatchResult, p: Packet): boolean {
  if (r.matches.some((m) => matchAccepts(m, p))) return true
  return r.conjunctions.some((c) => {
    const n = c.clauses[0].n
    return Array.from({length: n}, (_, i) => i + 1).every((k) => c.clauses.some((cl) => cl.k === k && matchAccepts(cl.match, p)))
  })
}

const atom = fc.oneof(
  fc.record({f: fc.constantFrom('a', 'b'), op: fc.constantFrom('==', '!=', '<', '<=', '>', '>='), v: fc.nat(7)}).map(({f, op, v}) => `${f} ${op} ${v}`),
  fc.record({f: fc.constantFrom('a', 'b'), v: fc.nat(7), m: fc.nat(7)}).map(({f, v, m}) => `${f} == ${v & m}/${m}`),
  fc.record({lo: fc.nat(3), len: fc.nat(3), v: fc.nat(1)}).map(({lo, len, v}) => `a[${lo}..${Math.min(3, lo + len)}] == ${v}`),
  fc.uniqueArray(fc.nat(7), {minLength: 1, maxLength: 3}).map((vs) => `b == {${vs.join(', ')}}`),
  fc.uniqueArray(fc.nat(3), {minLength: 1, maxLength: 3}).map((vs) => `c == {${vs.join(', ')}}`),
  fc.constantFrom('a.hi == 2', 'p', 'a[3]', 'b[0]', '1', '0', 'a.hi != 1'),
)

const exprText: fc.Arbitrary<string> = fc.letrec<{e: string}>((tie) => ({
  e: fc.oneof(
    {depthSize: 'small', withCrossShrink: true},
    atom,
    tie('e').map((x) => `!(${x})`),
    fc.array(tie('e'), {minLength: 2, maxLength: 3}).map((xs) => `(${xs.join(' && ')})`),
    fc.array(tie('e'), {minLength: 2, maxLength: 3}).map((xs) => `(${xs.join(' || ')})`),
  ),
})).e

const packet = fc.record({a: fc.nat(15), b: fc.nat(7), c: fc.nat(3)})

describe('match compilation, checked against a reference evaluator', () => {
  it('accepts exactly the packets the expression accepts, on every packet of the small field space', () => {
    const ctx = {symtab, lookupPort: () => undefined, isChassisResident: () => false}
    fc.assert(
      fc.property(exprText, (text) => {
        const parsed = parseExpr(text, symtab)
        let result: MatchResult
        try {
          result = toMatches(annotate(parsed, symtab), ctx)
        } catch (e) {
          fc.pre(!(e instanceof PipelineSemanticError && /Nominal field/.test(e.message)))
          throw e
        }
        for (let a = 0; a < 16; a++) for (let b = 0; b < 8; b++) for (let c = 0; c < 4; c++) {
          const p = {a, b, c}
          const expected = evaluate(parsed, p)
          const actual = flowsAccept(result, p)
          assert.equal(actual, expected, `match ${JSON.stringify(text)} on packet ${JSON.stringify(p)}: expected ${expected}, flows say ${actual}\nflows: ${result.matches.map(formatMatch).join(' | ')}`)
        }
      }),
      {numRuns: 300},
    )
  })

  it('agrees with the evaluator on random packets for conjunctive matches of two sets', () => {
    const text = 'a == {1, 3, 5, 9} && b == {0, 2, 7}'
    const parsed = parseExpr(text, symtab)
    const result = toMatches(annotate(parsed, symtab), {symtab, lookupPort: () => undefined, isChassisResident: () => false})
    assert.equal(result.conjunctions.length, 1)
    fc.assert(fc.property(packet, (p) => flowsAccept(result, p) === evaluate(parsed, p)))
  })
})
