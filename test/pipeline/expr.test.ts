import assert from 'node:assert/strict'
import {annotate, parseExpr} from '../../src/core/pipeline/annotate.js'
import {formatExpr} from '../../src/core/pipeline/expr.js'
import {tokenize} from '../../src/core/pipeline/lexer.js'
import {toMatches} from '../../src/core/pipeline/matches.js'
import {simplify} from '../../src/core/pipeline/simplify.js'
import {formatMatch} from '../../src/core/openflow/match.js'
import {testContext} from './context.js'
import {checkGolden, readInput} from './golden.js'

/** Every stage of compiling one match, as printable text. */
export function compileStages(text: string): Record<string, unknown> {
  const ctx = testContext()
  const parsed = parseExpr(text, ctx.symtab)
  const annotated = annotate(parsed, ctx.symtab, ctx)
  const result = toMatches(annotated, ctx)
  return {
    match: text,
    parse: formatExpr(parsed),
    annotate: formatExpr(annotated),
    simplify: formatExpr(simplify(annotated, ctx.symtab)),
    matches: result.matches.map(formatMatch),
    conjunctions: result.conjunctions.map((c) => ({
      match: formatMatch(c.match),
      clauses: c.clauses.map((cl) => `${formatMatch(cl.match)} conjunction(${c.id},${cl.k}/${cl.n})`),
    })),
  }
}

function errorOf(text: string): string {
  const ctx = testContext()
  try {
    toMatches(annotate(parseExpr(text, ctx.symtab), ctx.symtab, ctx), ctx)
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`
  }
  return 'no error'
}

describe('match expressions', () => {
  it('tokenizes every kind of token with its column', () => {
    const samples = [
      'reg0[0..15] == 0x1f/0xff && ip4.src == 10.0.0.0/8',
      'eth.src == {00:00:00:00:00:01 aa:bb:cc:00:00:00/ff:ff:ff:00:00:00,}',
      'ip6.dst == fe80::/64 || ip6.src == ::ffff:10.0.0.1 // trailing comment',
      'inport == "a\\"b\\u0041" /* inline */ && outport == @pg && ip4.dst == $as_1',
      'eth.src <-> eth.dst; ip.ttl--; next(pipeline=egress, table=3); ct_lb(backends=10.0.0.2:80);',
      '!(a != 1) || b <= 2 || c >= 3 || d < 4 || e > 5',
    ]
    const out = samples.map((s) => ({
      text: s,
      tokens: tokenize(s).map((t) => {
        const {column, ...rest} = t
        const shown = 'value' in rest ? {...rest, value: String(rest.value), mask: rest.mask === undefined ? undefined : String(rest.mask)} : rest
        return `${column}:${JSON.stringify(shown)}`
      }),
    }))
    checkGolden('lexer', out)
  })

  it('compiles each golden match through parse, annotate, simplify and matches', () => {
    checkGolden('exprs', readInput<string[]>('exprs').map(compileStages))
  })

  it('rejects malformed or ill-typed matches with the column or the rule broken', () => {
    checkGolden('errors', readInput<string[]>('errors').map((text) => ({match: text, error: errorOf(text)})))
  })

  it('reports a missing closing parenthesis at the column where it was expected', () => {
    assert.equal(errorOf('(ip4 && tcp'), 'PipelineSyntaxError: Syntax error at column 12: expecting ")"')
  })

  it('uses a conjunctive match only when two dimensions have several values', () => {
    const two = compileStages('ip4.src == {10.0.0.1, 10.0.0.2} && tcp.dst == {80, 443}')
    const one = compileStages('ip4.src == {10.0.0.1, 10.0.0.2} && tcp.dst == 80')
    assert.equal((two.conjunctions as unknown[]).length, 1, JSON.stringify(two))
    assert.deepEqual(one.matches, ['tcp,nw_src=10.0.0.1,tp_dst=80', 'tcp,nw_src=10.0.0.2,tp_dst=80'])
  })
})
