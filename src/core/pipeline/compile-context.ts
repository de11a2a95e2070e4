/**
 * The compilation context an operator gives `expr-to-flows` and `actions-to-flows` as JSON: what a live
 * Southbound database would otherwise say about ports (Port_Binding tunnel_key), address sets, port groups,
 * ports resident on this chassis and named meters. Pure: the caller reads the file.
 *
 *     {"ports": {"lsp1": 1}, "addressSets": {"as1": ["10.0.0.1"]}, "portGroups": {"pg1": ["lsp1"]},
 *      "chassisResident": ["lsp1"], "meters": {"acl-meter": 1}}
 */
import type {MatchContext} from './matches.js'
import type {SymbolTable} from './symbols.js'

/** The context file's content, checked. */
export interface CompileContext {
  ports: ReadonlyMap<string, number>
  addressSets: ReadonlyMap<string, readonly string[]>
  portGroups: ReadonlyMap<string, readonly string[]>
  chassisResident: ReadonlySet<string>
  meters: ReadonlyMap<string, number>
}

/** Thrown for a context document that does not have the shape above. */
export class CompileContextError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CompileContextError'
  }
}

const keys = ['ports', 'addressSets', 'portGroups', 'chassisResident', 'meters']

function object(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CompileContextError(`Invalid context: "${what}" must be an object`)
  return v as Record<string, unknown>
}

function numbers(v: unknown, what: string, max: number): Map<string, number> {
  const out = new Map<string, number>()
  for (const [k, n] of Object.entries(object(v ?? {}, what))) {
    if (!Number.isInteger(n) || (n as number) < 0 || (n as number) > max) {
      throw new CompileContextError(`Invalid context: ${what} "${k}" must be an integer from 0 to ${max}, not ${JSON.stringify(n)}`)
    }
    out.set(k, n as number)
  }
  return out
}

function strings(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new CompileContextError(`Invalid context: ${what} must be an array of strings`)
  return v as string[]
}

function lists(v: unknown, what: string): Map<string, string[]> {
  return new Map(Object.entries(object(v ?? {}, what)).map(([k, l]) => [k, strings(l, `${what} "${k}"`)]))
}

/** Checks a parsed context document; an absent document is the empty context. */
export function parseCompileContext(doc: unknown = {}): CompileContext {
  const o = object(doc, 'context')
  const unknown = Object.keys(o).find((k) => !keys.includes(k))
  if (unknown !== undefined) throw new CompileContextError(`Invalid context: unknown key "${unknown}" (known: ${keys.join(', ')})`)
  return {
    ports: numbers(o.ports, 'ports', 0xffffffff),
    addressSets: lists(o.addressSets, 'addressSets'),
    portGroups: lists(o.portGroups, 'portGroups'),
    chassisResident: new Set(strings(o.chassisResident ?? [], 'chassisResident')),
    meters: numbers(o.meters, 'meters', 0xffffffff),
  }
}

/** The match compilation context for a symbol table. */
export function matchContextOf(c: CompileContext, symtab: SymbolTable): MatchContext {
  return {
    symtab,
    lookupPort: (name) => c.ports.get(name),
    isChassisResident: (name) => c.chassisResident.has(name),
    addressSets: c.addressSets,
    portGroups: c.portGroups,
  }
}
