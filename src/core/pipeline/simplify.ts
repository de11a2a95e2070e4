/**
 * Normalisation of an annotated match to a disjunction of conjunctions, the shape OpenFlow can express (one flow
 * per conjunction). Inside a conjunction, alternatives on one field stay grouped as a "dimension" (`ip4.src ==
 * {a, b}`), which is what lets `toMatches` use conjunctive matches instead of a cross product. Dimensions on
 * nominal fields (eth.type, ip.proto ...) are always expanded, as ovn-controller does, so every flow carries the
 * prerequisites OpenFlow needs.
 */
import {PipelineSemanticError} from './errors.js'
import {and, or, type Expr} from './expr.js'
import type {FieldSymbol, SymbolTable} from './symbols.js'

/** One alternative of a dimension: a masked integer or a port name. */
export type Alternative = {value: bigint; mask: bigint} | {port: string}

/** A conjunction: per field, the alternatives (any of which may hold); plus atoms such as is_chassis_resident. */
export interface Conjunction {
  dims: Map<string, Alternative[]>
  atoms: Expr[]
}

/** Bound on conjunctions produced from one match, so a hostile match cannot exhaust memory. */
export const conjunctionsMax = 100_000

function intersect(a: Alternative, b: Alternative): Alternative | undefined {
  if ('port' in a || 'port' in b) {
    return 'port' in a && 'port' in b && a.port === b.port ? a : undefined
  }
  if (((a.value ^ b.value) & a.mask & b.mask) !== 0n) return undefined
  return {value: a.value | b.value, mask: a.mask | b.mask}
}

/** True when every packet matching `a` also matches `b`. */
function subsumedBy(a: Alternative, b: Alternative): boolean {
  if ('port' in a || 'port' in b) return 'port' in a && 'port' in b && a.port === b.port
  return (b.mask & ~a.mask) === 0n && ((a.value ^ b.value) & b.mask) === 0n
}

function altKey(a: Alternative): string {
  return 'port' in a ? `p:${a.port}` : `${a.value.toString(16)}/${a.mask.toString(16)}`
}

/** Drops duplicate alternatives and those another alternative of the same dimension already covers. */
function reduce(alts: Alternative[]): Alternative[] {
  const unique = [...new Map(alts.map((a) => [altKey(a), a])).values()]
  // Distinct ports, or distinct values under one mask, never cover one another: skip the quadratic check (an
  // address set of thousands of addresses is that case).
  if (unique.length < 2 || sameMask(unique)) return unique
  return unique.filter((a, i) => !unique.some((b, j) => j !== i && subsumedBy(a, b) && !(subsumedBy(b, a) && j > i)))
}

function sameMask(alts: readonly Alternative[]): boolean {
  const first = alts[0]
  if ('port' in first) return alts.every((a) => 'port' in a)
  return alts.every((a) => !('port' in a) && a.mask === first.mask)
}

function merge(x: Conjunction, y: Conjunction): Conjunction | undefined {
  const dims = new Map(x.dims)
  for (const [field, alts] of y.dims) {
    const mine = dims.get(field)
    if (!mine) {
      dims.set(field, alts)
      continue
    }
    const out: Alternative[] = []
    for (const a of mine) for (const b of alts) {
      const c = intersect(a, b)
      if (c) out.push(c)
    }
    if (out.length === 0) return undefined
    dims.set(field, reduce(out))
  }
  return {dims, atoms: [...x.atoms, ...y.atoms]}
}

function checkSize(n: number): void {
  if (n > conjunctionsMax) throw new PipelineSemanticError(`Match expands to more than ${conjunctionsMax} conjunctions`)
}

/** Disjunctive normal form of an annotated expression, with same-field alternatives grouped. */
export function normalize(e: Expr, symtab: SymbolTable): Conjunction[] {
  return splitNominal(dnf(e), symtab)
}

function dnf(e: Expr): Conjunction[] {
  switch (e.type) {
    case 'bool':
      return e.value ? [{dims: new Map(), atoms: []}] : []
    case 'test':
      return [{dims: new Map([[e.field, [{value: e.value, mask: e.mask}]]]), atoms: []}]
    case 'strtest':
      return [{dims: new Map([[e.field, [{port: e.port}]]]), atoms: []}]
    case 'and': {
      let acc: Conjunction[] = [{dims: new Map(), atoms: []}]
      for (const arg of e.args) {
        const next: Conjunction[] = []
        for (const c of dnf(arg)) for (const a of acc) {
          const m = merge(a, c)
          if (m) next.push(m)
        }
        checkSize(next.length)
        acc = next
      }
      return acc
    }
    case 'or':
      return groupSingleField(e.args.flatMap(dnf))
    default:
      return [{dims: new Map(), atoms: [e]}]
  }
}

/** `f == a || f == b` becomes one conjunction with a two-alternative dimension on `f`. */
function groupSingleField(conjs: Conjunction[]): Conjunction[] {
  const byField = new Map<string, Alternative[]>()
  const rest: Conjunction[] = []
  for (const c of conjs) {
    if (c.dims.size === 0 && c.atoms.length === 0) return [c]
    if (c.dims.size === 1 && c.atoms.length === 0) {
      const [field, alts] = [...c.dims][0]
      byField.set(field, [...(byField.get(field) ?? []), ...alts])
    } else {
      rest.push(c)
    }
  }
  checkSize(rest.length + byField.size)
  return [...[...byField].map(([f, alts]) => ({dims: new Map([[f, reduce(alts)]]), atoms: []})), ...rest]
}

function splitNominal(conjs: Conjunction[], symtab: SymbolTable): Conjunction[] {
  const out: Conjunction[] = []
  const work = [...conjs]
  while (work.length > 0) {
    const c = work.pop() as Conjunction
    const entry = [...c.dims].find(([f, alts]) => alts.length > 1 && isCrossProduct(symtab, f))
    if (!entry) {
      out.push(c)
      continue
    }
    for (const alt of entry[1]) work.push({dims: new Map([...c.dims, [entry[0], [alt]]]), atoms: c.atoms})
    checkSize(out.length + work.length)
  }
  return out.reverse()
}

function isCrossProduct(symtab: SymbolTable, field: string): boolean {
  const f = symtab.get(field) as FieldSymbol | undefined
  return f?.level === 'nominal' && !f.isString
}

/** Converts normal form back to an expression, for printing (`--stage simplify`). */
export function conjunctionsToExpr(conjs: Conjunction[], symtab: SymbolTable): Expr {
  return or(
    conjs.map((c) =>
      and([
        ...[...c.dims].map(([field, alts]) =>
          or(
            alts.map((a): Expr => {
              if ('port' in a) return {type: 'strtest', field, port: a.port}
              const f = symtab.get(field) as FieldSymbol
              return {type: 'test', field, value: a.value, mask: a.mask, width: f.width, format: f.format}
            }),
          ),
        ),
        ...c.atoms,
      ]),
    ),
  )
}

/** Normalises an annotated expression and returns it as an expression (an OR of ANDs). */
export function simplify(e: Expr, symtab: SymbolTable): Expr {
  return conjunctionsToExpr(normalize(e, symtab), symtab)
}
