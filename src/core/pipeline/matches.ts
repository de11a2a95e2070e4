/**
 * Translation of a normalised match to OpenFlow matches (ovn-architecture(7) "Architectural Physical Life Cycle":
 * a logical flow maps to one or more OpenFlow flows; some map to the "conjunctive match" extension, ovs-fields(7)
 * conj_id). A conjunction with one multi-valued dimension becomes one flow per value; with two or more, it
 * becomes `conjunction(id, k/n)` flows, one per value of each dimension, plus one flow matching `conj_id=id`
 * that carries the logical flow's actions. String fields compare port names through the context's lookup.
 */
import {annotate, type NamedSets} from './annotate.js'
import {EncodeError} from './errors.js'
import type {Expr} from './expr.js'
import {normalize, type Alternative, type Conjunction} from './simplify.js'
import type {FieldSymbol, SymbolTable} from './symbols.js'
import {matchKey, withField, type Match} from '../openflow/match.js'

/** What compiling a match needs to know about the chassis and the datapath. */
export interface MatchContext extends NamedSets {
  symtab: SymbolTable
  /** Tunnel key of a logical port or multicast group of this datapath; undefined when it does not exist here. */
  lookupPort(name: string): number | undefined
  /** Whether the logical port is bound to this chassis (is_chassis_resident). */
  isChassisResident(name: string): boolean
  /** Allocates a conjunction id; default numbers them 1, 2, ... within one call. */
  allocateConjId?: () => number
}

/** A conjunctive match: clause flows carry `conjunction(id,k/n)`, the `match` flow carries the actions. */
export interface ConjunctiveMatch {
  id: number
  match: Match
  clauses: Array<{k: number; n: number; match: Match}>
}

/** OpenFlow matches for one logical match. */
export interface MatchResult {
  matches: Match[]
  conjunctions: ConjunctiveMatch[]
}

/** Replaces is_chassis_resident() atoms by their truth on this chassis. */
function resolveAtoms(e: Expr, ctx: MatchContext): Expr {
  switch (e.type) {
    case 'chassis':
      return {type: 'bool', value: ctx.isChassisResident(e.port)}
    case 'not': {
      const inner = resolveAtoms(e.arg, ctx)
      return inner.type === 'bool' ? {type: 'bool', value: !inner.value} : {type: 'not', arg: inner}
    }
    case 'and':
    case 'or':
      return {type: e.type, args: e.args.map((a) => resolveAtoms(a, ctx))}
    default:
      return e
  }
}

function addAlternative(m: Match, f: FieldSymbol, alt: Alternative, ctx: MatchContext): Match | undefined {
  if ('port' in alt) {
    const key = ctx.lookupPort(alt.port)
    return key === undefined ? undefined : withField(m, f.ofField, BigInt(key))
  }
  return withField(m, f.ofField, alt.value, alt.mask)
}

/** Compiles an annotated (or raw parsed) match; raw expressions are annotated with the context's sets first. */
export function toMatches(expr: Expr, ctx: MatchContext): MatchResult {
  const lowered = isAnnotated(expr) ? expr : annotate(expr, ctx.symtab, ctx)
  const conjs = normalize(resolveAtoms(lowered, ctx), ctx.symtab)
  let nextId = 1
  const allocate = ctx.allocateConjId ?? (() => nextId++)
  const matches: Match[] = []
  const conjunctions: ConjunctiveMatch[] = []
  for (const c of conjs) {
    if (c.atoms.length > 0) throw new EncodeError(`Cannot encode ${c.atoms.length} unresolved atoms in a match`)
    const dims = resolvePorts(c, ctx)
    if (!dims) continue
    const base = dims.single
    if (!base) continue
    if (dims.multi.length === 0) {
      matches.push(base)
    } else if (dims.multi.length === 1) {
      for (const m of dims.multi[0]) matches.push(m)
    } else {
      const id = allocate()
      const n = dims.multi.length
      const clauses = dims.multi.flatMap((ms, i) => ms.map((m) => ({k: i + 1, n, match: m})))
      conjunctions.push({id, match: withField(base, 'conj_id', BigInt(id)), clauses})
    }
  }
  return {matches: matches.length > 1 ? unique(matches) : matches, conjunctions}
}

/** The matches without repeats (two conjunctions may yield one OpenFlow match), first occurrence kept. */
function unique(matches: readonly Match[]): Match[] {
  const byKey = new Map<string, Match>()
  for (const m of matches) {
    const key = matchKey(m)
    if (!byKey.has(key)) byKey.set(key, m)
  }
  return [...byKey.values()]
}

/** Builds the common match and, per multi-valued dimension, the list of (common + alternative) matches. */
function resolvePorts(c: Conjunction, ctx: MatchContext): {single: Match | undefined; multi: Match[][]} | undefined {
  let single: Match | undefined = new Map()
  const multiDims: Array<[FieldSymbol, Alternative[]]> = []
  try {
    for (const [name, alts] of c.dims) {
      const f = ctx.symtab.get(name) as FieldSymbol
      if (alts.length === 1) {
        single = single && addAlternative(single, f, alts[0], ctx)
        if (!single) return undefined
      } else {
        multiDims.push([f, alts])
      }
    }
  } catch {
    return undefined // contradictory constraints on one OpenFlow field (e.g. two string fields on one register)
  }
  const base = single
  const multi: Match[][] = []
  for (const [f, alts] of multiDims) {
    const ms = alts.map((a) => addAlternative(base, f, a, ctx)).filter((m): m is Match => m !== undefined)
    if (ms.length === 0) return undefined
    multi.push(ms)
  }
  // A dimension that lost all but one port through lookups is no longer a dimension.
  const narrowed = multi.filter((ms) => ms.length > 1)
  let merged: Match = base
  for (const ms of multi) if (ms.length === 1) merged = ms[0] && new Map([...merged, ...ms[0]])
  return {single: merged, multi: narrowed.map((ms) => ms.map((m) => new Map([...merged, ...m])))}
}

function isAnnotated(e: Expr): boolean {
  switch (e.type) {
    case 'cmp':
    case 'sym':
      return false
    case 'not':
      return isAnnotated(e.arg)
    case 'and':
    case 'or':
      return e.args.every(isAnnotated)
    default:
      return true
  }
}
