/**
 * One logical flow to OpenFlow flows on this chassis (ovn-architecture(7) "Logical Flows", ovn-controller's
 * lflow.c): the match, with the actions' prerequisites, is compiled once per local datapath of the flow (its
 * own or those of its Logical_DP_Group), with `metadata` set to the datapath's tunnel key, into OpenFlow table
 * 8+N (ingress) or 42+N (egress). The cookie is the first 32 bits of the logical flow's UUID. Port groups are
 * per datapath in the Southbound ("KEY_NAME"), as northd writes them; a plain name is the fallback.
 */
import {parseActions} from '../pipeline/actions-parser.js'
import {encodeActions, type ActionContext, type GroupSpec} from '../pipeline/actions-encode.js'
import type {Action} from '../pipeline/actions.js'
import {actionPrereqs} from '../pipeline/actions-prereqs.js'
import {annotate, parseExpr} from '../pipeline/annotate.js'
import {and, type Expr} from '../pipeline/expr.js'
import {toMatches, type MatchContext} from '../pipeline/matches.js'
import type {SymbolTable} from '../pipeline/symbols.js'
import {withField} from '../openflow/match.js'
import type {Flow} from '../openflow/flow.js'
import {type Datapath, type LogicalFlow, cookieOf} from './sb-model.js'

/** OpenFlow table of logical table 0 of each pipeline (ovn-controller 23.03 OFTABLE_LOG_*_PIPELINE). */
export const ingressTableBase = 8
export const egressTableBase = 42

/** What compiling needs from the rest of the controller. */
export interface LflowEnv {
  symtab: SymbolTable
  /** Tunnel key of a logical port or multicast group of a datapath. */
  portKey(datapath: Datapath, name: string): number | undefined
  isChassisResident(port: string): boolean
  addressSets: ReadonlyMap<string, readonly string[]>
  /** Members of a port group as a flow of `datapath` names it. */
  portGroup(datapath: Datapath, name: string): readonly string[] | undefined
  /** One id per distinct group text, shared by every flow. */
  groupId(spec: string): number
  /** A fresh conjunction id. */
  conjId(): number
}

/** A flow the controller wants, with its origin. */
export interface DesiredFlow extends Flow {
  /** UUID of the logical flow, or "physical:WHAT" for flows of the physical pipeline. */
  origin: string
}

/** The result of compiling one logical flow for its local datapaths. */
export interface CompiledLflow {
  flows: DesiredFlow[]
  groups: GroupSpec[]
  /** Why it did not compile, per datapath name (the rest of its datapaths still compiled). */
  errors: string[]
}

/** A logical flow's text parsed once, shared by all its datapaths. */
interface Parsed {
  match: Expr
  actions: Action[]
}

function parse(lf: LogicalFlow, symtab: SymbolTable): Parsed {
  const actions = parseActions(lf.actions, symtab)
  const prereqs = actionPrereqs(actions, symtab)
  const match = parseExpr(lf.match, symtab)
  return {match: prereqs ? and([match, prereqs]) : match, actions}
}

/** Compiles `lf` for each of `datapaths` (the local ones it applies to). */
export function compileLflow(lf: LogicalFlow, datapaths: readonly Datapath[], env: LflowEnv): CompiledLflow {
  const out: CompiledLflow = {flows: [], groups: [], errors: []}
  let parsed: Parsed
  try {
    parsed = parse(lf, env.symtab)
  } catch (err) {
    out.errors.push((err as Error).message)
    return out
  }
  for (const dp of datapaths) {
    try {
      compileFor(lf, parsed, dp, env, out)
    } catch (err) {
      out.errors.push(`datapath ${dp.name}: ${(err as Error).message}`)
    }
  }
  return out
}

function compileFor(lf: LogicalFlow, parsed: Parsed, dp: Datapath, env: LflowEnv, out: CompiledLflow): void {
  const portGroups = {get: (name: string) => env.portGroup(dp, name)} as ReadonlyMap<string, readonly string[]>
  const mctx: MatchContext = {
    symtab: env.symtab,
    lookupPort: (name) => env.portKey(dp, name),
    isChassisResident: env.isChassisResident,
    addressSets: env.addressSets,
    portGroups,
    allocateConjId: env.conjId,
  }
  const actx: ActionContext = {
    symtab: env.symtab,
    pipeline: lf.pipeline,
    tableId: lf.tableId,
    datapath: dp.isRouter ? 'router' : 'switch',
    lookupPort: (name) => env.portKey(dp, name),
    allocateGroupId: env.groupId,
  }
  const encoded = encodeActions(parsed.actions, actx)
  const result = toMatches(annotate(parsed.match, env.symtab, {addressSets: env.addressSets, portGroups}), mctx)
  const table = (lf.pipeline === 'ingress' ? ingressTableBase : egressTableBase) + lf.tableId
  const cookie = cookieOf(lf.uuid)
  const meta = (m: Flow['match']) => withField(m, 'metadata', BigInt(dp.key))
  const flow = (match: Flow['match'], actions: string): DesiredFlow => ({table, priority: lf.priority, cookie, match: meta(match), actions, origin: lf.uuid})
  for (const m of result.matches) out.flows.push(flow(m, encoded.ofActions))
  for (const c of result.conjunctions) {
    out.flows.push(flow(c.match, encoded.ofActions))
    for (const cl of c.clauses) out.flows.push(flow(cl.match, `conjunction(${c.id},${cl.k}/${cl.n})`))
  }
  for (const g of encoded.groups) if (!out.groups.some((x) => x.id === g.id)) out.groups.push(g)
}

/** Whether a logical flow's text mentions a name (a port, address set or port group), so it must be recompiled when that changes. */
export function mentions(lf: LogicalFlow, name: string): boolean {
  return lf.match.includes(name) || lf.actions.includes(name)
}
