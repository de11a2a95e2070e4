/**
 * Parser of match expressions (ovn-sb(5) Logical_Flow "match"): comparisons (either side may be the constant),
 * range tests `a <= f <= b`, sets `{...}` with optional commas, `$addr_set`, `@port_group`, bare 1-bit symbols,
 * `!`, `&&`, `||`, parentheses, `0`/`1`, and `is_chassis_resident("port")`. The manual's two precedence
 * exceptions are enforced: `&&` and `||` need parentheses when mixed, and `!` needs them around a comparison.
 */
import {PipelineSyntaxError} from './errors.js'
import {and, or, type Expr, type FieldRef, type RelOp, type SetElem} from './expr.js'
import {tokenize, type Operator, type Token} from './lexer.js'

const relOps: readonly string[] = ['==', '!=', '<', '<=', '>', '>=']

/** Mirror of a relational operator when the constant is written first (`80 == tcp.src`). */
const flipped: Record<RelOp, RelOp> = {'==': '==', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<='}

/** A cursor over tokens with the helpers both the match and the action parser use. */
export class TokenStream {
  private pos = 0

  constructor(private readonly tokens: Token[]) {}

  /** Builds a stream over the tokens of `text`. */
  static of(text: string): TokenStream {
    return new TokenStream(tokenize(text))
  }

  /** The current token, not consumed. */
  peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)]
  }

  /** Consumes and returns the current token. */
  next(): Token {
    const t = this.peek()
    if (t.kind !== 'end') this.pos++
    return t
  }

  /** True when the current token is operator `op`. */
  isOp(op: Operator, offset = 0): boolean {
    const t = this.peek(offset)
    return t.kind === 'op' && t.text === op
  }

  /** True when the current token is identifier `id`. */
  isId(id: string, offset = 0): boolean {
    const t = this.peek(offset)
    return t.kind === 'id' && t.text === id
  }

  /** Consumes operator `op` if present. */
  matchOp(op: Operator): boolean {
    if (!this.isOp(op)) return false
    this.pos++
    return true
  }

  /** Consumes operator `op` or fails with `expecting "op"`. */
  expectOp(op: Operator): void {
    if (!this.matchOp(op)) this.fail(`expecting ${JSON.stringify(op)}`)
  }

  /** Consumes an identifier or fails. */
  expectId(what = 'identifier'): string {
    const t = this.peek()
    if (t.kind !== 'id') this.fail(`expecting ${what}`)
    this.pos++
    return (t as {text: string}).text
  }

  /** Consumes a string constant or fails. */
  expectString(what = 'string'): string {
    const t = this.peek()
    if (t.kind !== 'string') this.fail(`expecting ${what}`)
    this.pos++
    return (t as {text: string}).text
  }

  /** Consumes a non-negative integer (no mask) or fails. */
  expectInteger(what = 'integer'): bigint {
    const t = this.peek()
    if (t.kind !== 'int' || t.mask !== undefined) this.fail(`expecting ${what}`)
    this.pos++
    return (t as {value: bigint}).value
  }

  /** Throws a syntax error at the current token. */
  fail(detail: string): never {
    throw new PipelineSyntaxError(detail, this.peek().column)
  }

  /** True at end of input. */
  atEnd(): boolean {
    return this.peek().kind === 'end'
  }
}

/** Parses a field reference `name`, `name[bit]` or `name[lo..hi]`. */
export function parseFieldRef(ts: TokenStream): FieldRef {
  const name = ts.expectId('field name')
  if (!ts.matchOp('[')) return {name}
  const lo = Number(ts.expectInteger('bit index'))
  const hi = ts.matchOp('..') ? Number(ts.expectInteger('bit index')) : lo
  ts.expectOp(']')
  if (hi < lo) ts.fail(`bit range ${lo}..${hi} is reversed`)
  return {name, lo, hi}
}

/** Parses one set element or a single constant. */
function parseElem(ts: TokenStream): SetElem {
  const t = ts.next()
  switch (t.kind) {
    case 'int':
      return {kind: 'int', value: t.value, mask: t.mask, format: t.format}
    case 'string':
      return {kind: 'string', text: t.text}
    case 'addrset':
      return {kind: 'addrset', name: t.text}
    case 'portgroup':
      return {kind: 'portgroup', name: t.text}
    default:
      throw new PipelineSyntaxError('expecting constant', t.column)
  }
}

/** Parses a constant or `{a, b, ...}`; reports whether braces were used. */
export function parseValues(ts: TokenStream): {values: SetElem[]; isSet: boolean} {
  if (!ts.matchOp('{')) return {values: [parseElem(ts)], isSet: false}
  const values: SetElem[] = []
  while (!ts.matchOp('}')) {
    values.push(parseElem(ts))
    ts.matchOp(',')
  }
  return {values, isSet: true}
}

function isConstantStart(t: Token): boolean {
  return t.kind === 'int' || t.kind === 'string' || t.kind === 'addrset' || t.kind === 'portgroup' || (t.kind === 'op' && t.text === '{')
}

function peekRelOp(ts: TokenStream): RelOp | undefined {
  const t = ts.peek()
  return t.kind === 'op' && relOps.includes(t.text) ? (t.text as RelOp) : undefined
}

class MatchParser {
  constructor(private readonly ts: TokenStream) {}

  parseExpr(): Expr {
    const first = this.parseUnary()
    const opTok = this.ts.peek()
    if (!this.ts.isOp('&&') && !this.ts.isOp('||')) return first
    const op = (opTok as {text: string}).text
    const args = [first]
    while (this.ts.matchOp(op as Operator)) {
      args.push(this.parseUnary())
      if (this.ts.isOp(op === '&&' ? '||' : '&&')) this.ts.fail('&& and || must be parenthesized when used together')
    }
    return op === '&&' ? and(args) : or(args)
  }

  private parseUnary(): Expr {
    const ts = this.ts
    if (ts.matchOp('!')) {
      const notColumn = ts.peek().column
      const arg = this.parseUnary()
      if (arg.type === 'cmp' && !this.lastWasParenthesized) {
        throw new PipelineSyntaxError('missing parentheses around operand of !', notColumn)
      }
      this.lastWasParenthesized = false
      return {type: 'not', arg}
    }
    this.lastWasParenthesized = false
    if (ts.matchOp('(')) {
      const e = this.parseExpr()
      ts.expectOp(')')
      this.lastWasParenthesized = true
      return e
    }
    return this.parsePrimary()
  }

  private lastWasParenthesized = false

  private parsePrimary(): Expr {
    const ts = this.ts
    const t = ts.peek()
    if (t.kind === 'id' && ts.isOp('(', 1)) return this.parseFunction()
    if (isConstantStart(t)) return this.parseConstantFirst()
    if (t.kind !== 'id') ts.fail('expecting field name, constant, "(" or "!"')
    const field = parseFieldRef(ts)
    const op = peekRelOp(ts)
    if (!op) return {type: 'sym', field}
    ts.next()
    const {values, isSet} = parseValues(ts)
    return {type: 'cmp', field, op, values, isSet}
  }

  /** `0`, `1`, `80 == tcp.src` and `1024 <= tcp.src <= 49151`. */
  private parseConstantFirst(): Expr {
    const ts = this.ts
    const start = ts.peek()
    const {values, isSet} = parseValues(ts)
    const op = peekRelOp(ts)
    if (!op) {
      const c = values[0]
      if (!isSet && c.kind === 'int' && c.mask === undefined && (c.value === 0n || c.value === 1n)) {
        return {type: 'bool', value: c.value === 1n}
      }
      throw new PipelineSyntaxError('expecting relational operator', ts.peek().column)
    }
    ts.next()
    const field = parseFieldRef(ts)
    const left: Expr = {type: 'cmp', field, op: flipped[op], values, isSet}
    const op2 = peekRelOp(ts)
    if (!op2) return left
    ts.next()
    if (!['<', '<='].includes(op) || !['<', '<='].includes(op2)) {
      throw new PipelineSyntaxError('range test must use "<" or "<=" on both sides', start.column)
    }
    const upper = parseValues(ts)
    return and([left, {type: 'cmp', field, op: op2, ...upper}])
  }

  private parseFunction(): Expr {
    const ts = this.ts
    const name = ts.expectId()
    if (name !== 'is_chassis_resident') ts.fail(`unknown function ${JSON.stringify(name)}`)
    ts.expectOp('(')
    const port = ts.expectString('port name')
    ts.expectOp(')')
    return {type: 'chassis', port}
  }
}

/** Parses a whole match string; the symbol table is applied later by `annotate`. */
export function parseMatch(text: string): Expr {
  const ts = TokenStream.of(text)
  const e = new MatchParser(ts).parseExpr()
  if (!ts.atEnd()) ts.fail('expecting "&&", "||" or end of input')
  return e
}

/** Parses an expression from a stream positioned at its start (used by actions that embed matches). */
export function parseExprFrom(ts: TokenStream): Expr {
  return new MatchParser(ts).parseExpr()
}
