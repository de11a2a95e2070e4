/**
 * Checking a parsed match against the symbol table and lowering it to tests on whole fields (ovn-sb(5) Logical_Flow
 * "Symbols", "Relational operators", "Prerequisites"). Negations are pushed to the comparisons first, as the
 * manual's "taking enclosing `!` operators into account" requires, so prerequisites are always added positively:
 * `!(tcp.dst == 80)` means `tcp.dst != 80 && tcp`.
 */
import {PipelineSemanticError} from './errors.js'
import {fieldBits} from './field-ref.js'
import {and, or, FALSE, type Expr, type FieldRef, type RelOp, type SetElem} from './expr.js'
import {parseMatch} from './parser.js'
import type {FieldSymbol, SymbolTable} from './symbols.js'

/** Named sets a match may refer to: `$name` address sets and `@name` port groups. */
export interface NamedSets {
  addressSets?: ReadonlyMap<string, readonly string[]>
  portGroups?: ReadonlyMap<string, readonly string[]>
}

/** Parses `text` and checks every symbol against `symtab` (ovn-controller's parse stage). */
export function parseExpr(text: string, symtab: SymbolTable): Expr {
  const e = parseMatch(text)
  check(e, symtab)
  return e
}

function check(e: Expr, symtab: SymbolTable): void {
  switch (e.type) {
    case 'cmp':
      resolve(e.field, symtab)
      return
    case 'sym': {
      const r = resolve(e.field, symtab)
      if (r.kind === 'field' && r.hi !== r.lo) {
        throw new PipelineSemanticError(`Explicit "!= 0" is required for inequality test of multibit field "${e.field.name}" against 0`)
      }
      return
    }
    case 'not':
      check(e.arg, symtab)
      return
    case 'and':
    case 'or':
      e.args.forEach((a) => check(a, symtab))
      return
    default:
  }
}

/** A reference resolved to a whole field and bit range, or to a predicate. */
type Resolved =
  | {kind: 'field'; field: FieldSymbol; lo: number; hi: number; prereqs: string[]}
  | {kind: 'predicate'; expansion: string}

function resolve(ref: FieldRef, symtab: SymbolTable): Resolved {
  const sym = symtab.get(ref.name)
  if (!sym) throw new PipelineSemanticError(`Syntax error at "${ref.name}": expecting field name`)
  if (sym.kind === 'predicate') {
    if (ref.lo !== undefined) throw new PipelineSemanticError(`Cannot select subfield of predicate "${ref.name}"`)
    return {kind: 'predicate', expansion: sym.expansion}
  }
  return {kind: 'field', ...fieldBits(ref, sym, symtab, {refuseNominalSubfield: true})}
}

const negated: Record<RelOp, RelOp> = {'==': '!=', '!=': '==', '<': '>=', '<=': '>', '>': '<=', '>=': '<'}

/** Pushes `!` down to comparisons (De Morgan), so only `chassis` atoms may stay negated. */
export function pushNegations(e: Expr, neg = false): Expr {
  switch (e.type) {
    case 'bool':
      return {type: 'bool', value: e.value !== neg}
    case 'cmp':
      return neg ? {...e, op: negated[e.op]} : e
    case 'sym':
      return {type: 'cmp', field: e.field, op: neg ? '!=' : '==', values: [{kind: 'int', value: 1n, format: 'decimal'}], isSet: false}
    case 'chassis':
      return neg ? {type: 'not', arg: e} : e
    case 'not':
      return pushNegations(e.arg, !neg)
    case 'and':
    case 'or': {
      const args = e.args.map((a) => pushNegations(a, neg))
      return (e.type === 'and') !== neg ? and(args) : or(args)
    }
    default:
      return neg ? {type: 'not', arg: e} : e
  }
}

/** Lowered predicate expansions and prerequisites by symbol table (bounded by the table's own texts). */
const expansionCache = new WeakMap<SymbolTable, Map<string, Expr>>()

/** Bound on how deep predicate and prerequisite expansion may nest, catching cycles in a symbol table. */
const expansionDepthMax = 32

/** Lowers a parsed expression to `test`/`strtest` atoms with prerequisites, expanding predicates and sets. */
export function annotate(e: Expr, symtab: SymbolTable, sets: NamedSets = {}): Expr {
  check(e, symtab)
  return new Annotator(symtab, sets).lower(pushNegations(e), 0)
}

class Annotator {
  constructor(
    private readonly symtab: SymbolTable,
    private readonly sets: NamedSets,
  ) {}

  lower(e: Expr, depth: number): Expr {
    if (depth > expansionDepthMax) throw new PipelineSemanticError('Recursive expansion of predicates or prerequisites')
    switch (e.type) {
      case 'and':
      case 'or':
        return this.lowerJunction(e.type, e.args, depth)
      case 'cmp':
        return this.lowerCmp(e, depth)
      case 'sym':
        return this.lowerCmp(pushNegations(e) as Extract<Expr, {type: 'cmp'}>, depth)
      default:
        return e
    }
  }

  /**
   * Lowers the terms of an AND (OR) in order and stops at the first false (true) one: the rest cannot change the
   * result. A match on a port group with no local member is false on this chassis, and then the address sets
   * that follow it (often thousands of addresses) need not be expanded.
   */
  private lowerJunction(type: 'and' | 'or', args: readonly Expr[], depth: number): Expr {
    const out: Expr[] = []
    for (const a of args) {
      const l = this.lower(a, depth)
      if (l.type === 'bool' && l.value === (type === 'or')) return l
      out.push(l)
    }
    return type === 'and' ? and(out) : or(out)
  }

  /**
   * A predicate's expansion or a prerequisite, lowered. These texts come from the symbol table and name no set,
   * so their lowering depends on the table alone: it is done once per table and shared (expressions are values).
   */
  private expand(text: string, neg: boolean, depth: number): Expr {
    let cache = expansionCache.get(this.symtab)
    if (!cache) expansionCache.set(this.symtab, (cache = new Map()))
    const key = neg ? `!${text}` : text
    const hit = cache.get(key)
    if (hit) return hit
    const lowered = this.lower(pushNegations(parseMatch(text), neg), depth + 1)
    cache.set(key, lowered)
    return lowered
  }

  private lowerCmp(e: Extract<Expr, {type: 'cmp'}>, depth: number): Expr {
    const r = resolve(e.field, this.symtab)
    const values = this.expandSets(e.values)
    if (r.kind === 'predicate') {
      if (values.length !== 1 || values[0].kind !== 'int' || values[0].mask !== undefined || values[0].value > 1n) {
        throw new PipelineSemanticError(`Predicate "${e.field.name}" may only be compared with 0 or 1`)
      }
      if (e.op !== '==' && e.op !== '!=') throw new PipelineSemanticError(`Predicate "${e.field.name}" may only be tested with == or !=`)
      const positive = (e.op === '==') === (values[0].value === 1n)
      return this.expand(r.expansion, !positive, depth)
    }
    const tests = values.map((v) => this.lowerOne(e, r, v))
    let body: Expr
    if (e.op === '==') body = or(tests)
    else if (e.op === '!=') body = and(tests.map((t) => this.negate(t, e.field.name)))
    else {
      if (r.field.level === 'nominal' || r.field.isString) {
        throw new PipelineSemanticError(`Only == and != operators may be used to compare nominal field "${e.field.name}"`)
      }
      if (e.isSet || values.length !== 1) throw new PipelineSemanticError(`Operator ${e.op} cannot be applied to a set`)
      body = this.relational(e.op, r, values[0] as Extract<SetElem, {kind: 'int'}>, e.field.name)
    }
    const prereqs = r.prereqs.map((p) => this.expand(p, false, depth))
    return and([body, ...prereqs])
  }

  private expandSets(values: SetElem[]): SetElem[] {
    const out: SetElem[] = []
    for (const v of values) {
      if (v.kind === 'addrset') {
        const members = this.sets.addressSets?.get(v.name)
        if (!members) throw new PipelineSemanticError(`Syntax error at "$${v.name}": expecting address set name`)
        for (const m of members) out.push(...parseMatchConstant(m))
      } else if (v.kind === 'portgroup') {
        const members = this.sets.portGroups?.get(v.name)
        if (!members) throw new PipelineSemanticError(`Syntax error at "@${v.name}": expecting port group name`)
        for (const m of members) out.push({kind: 'string', text: m})
      } else {
        out.push(v)
      }
    }
    return out
  }

  private lowerOne(e: Extract<Expr, {type: 'cmp'}>, r: Extract<Resolved, {kind: 'field'}>, v: SetElem): Expr {
    const f = r.field
    if (f.isString) {
      if (v.kind !== 'string') throw new PipelineSemanticError(`String field "${e.field.name}" cannot be compared with an integer`)
      return {type: 'strtest', field: f.name, port: v.text}
    }
    if (v.kind !== 'int') throw new PipelineSemanticError(`Integer field "${e.field.name}" cannot be compared with a string`)
    const width = r.hi - r.lo + 1
    const full = (1n << BigInt(width)) - 1n
    const mask = v.mask ?? full
    if (v.value > full || mask > full) {
      throw new PipelineSemanticError(`${bitLength(v.value | mask)}-bit constant is not allowed for ${width}-bit field "${e.field.name}"`)
    }
    if (v.mask !== undefined && f.level === 'nominal') {
      throw new PipelineSemanticError(`Nominal field "${e.field.name}" may not be compared with a masked constant`)
    }
    const shift = BigInt(r.lo)
    return {type: 'test', field: f.name, value: v.value << shift, mask: mask << shift, width: f.width, format: f.format}
  }

  private negate(t: Expr, name: string): Expr {
    if (t.type !== 'test') throw new PipelineSemanticError(`Nominal field "${name}" may only be tested for equality (taking enclosing "!" operators into account)`)
    const f = this.symtab.get(t.field) as FieldSymbol
    if (f.level === 'nominal') {
      throw new PipelineSemanticError(`Nominal field "${name}" may only be tested for equality (taking enclosing "!" operators into account)`)
    }
    // f != v/m holds when any masked bit differs: one single-bit test per bit of the mask.
    const bits: Expr[] = []
    for (let i = 0; i < t.width; i++) {
      const b = 1n << BigInt(i)
      if (t.mask & b) bits.push({...t, value: (t.value & b) ^ b, mask: b})
    }
    return bits.length === 0 ? FALSE : or(bits)
  }

  /** `<`, `<=`, `>`, `>=` as a union of prefix tests over the bits of the range (one per decisive bit). */
  private relational(op: RelOp, r: Extract<Resolved, {kind: 'field'}>, c: Extract<SetElem, {kind: 'int'}>, name: string): Expr {
    if (c.mask !== undefined) throw new PipelineSemanticError(`Operator ${op} cannot be applied to a masked constant for "${name}"`)
    const width = r.hi - r.lo + 1
    const full = (1n << BigInt(width)) - 1n
    if (c.value > full) throw new PipelineSemanticError(`${bitLength(c.value)}-bit constant is not allowed for ${width}-bit field "${name}"`)
    const less = op === '<' || op === '<='
    const terms: Expr[] = []
    const shift = BigInt(r.lo)
    for (let i = 0; i < width; i++) {
      const b = 1n << BigInt(i)
      const decisive = less ? (c.value & b) !== 0n : (c.value & b) === 0n
      if (!decisive) continue
      const mask = full ^ (b - 1n)
      const value = (c.value & mask) ^ b
      terms.push({type: 'test', field: r.field.name, value: value << shift, mask: mask << shift, width: r.field.width, format: r.field.format})
    }
    if (op === '<=' || op === '>=') {
      terms.push({type: 'test', field: r.field.name, value: c.value << shift, mask: full << shift, width: r.field.width, format: r.field.format})
    }
    return terms.length === 0 ? FALSE : or(terms)
  }
}

function bitLength(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length
}

/** An address set member is a constant in match syntax (`10.0.0.1`, `10.0.0.0/8`, `aa:bb:...`). */
/** How many parsed address set members are remembered (the same sets are expanded for many flows). */
export const memberCacheMax = 1_000_000
const memberCache = new Map<string, SetElem[]>()

function parseMatchConstant(text: string): SetElem[] {
  const hit = memberCache.get(text)
  if (hit) return hit
  const e = parseMatch(`x == ${text}`)
  if (e.type !== 'cmp') throw new PipelineSemanticError(`Invalid address set member ${JSON.stringify(text)}`)
  if (memberCache.size >= memberCacheMax) memberCache.clear()
  memberCache.set(text, e.values)
  return e.values
}
