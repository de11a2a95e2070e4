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
import {parseExpr} from '../pipeline/annotate.js'
import {and, type Expr} from '../pipeline/expr.js'
import {toMatches, type MatchContext, type MatchResult} from '../pipeline/matches.js'
import type {SymbolTable} from '../pipeline/symbols.js'
import {fieldText, formatMatch, formatMatchAround, joinAt, withField, type Match} from '../openflow/match.js'
import type {Flow} from '../openflow/flow.js'
import {RecordingEnv, type LflowCache, type LookupEnv} from './lflow-cache.js'
import {type Datapath, type LogicalFlow, cookieOf} from './sb-model.js'

/** OpenFlow table of logical table 0 of each pipeline (ovn-controller 23.03 OFTABLE_LOG_*_PIPELINE). */
export const ingressTableBase = 8
export const egressTableBase = 42

/** What compiling needs from the rest of the controller. */
export interface LflowEnv extends LookupEnv {
  symtab: SymbolTable
  /** One id per distinct group text, shared by every flow. */
  groupId(spec: string): number
  /** A conjunction id: the same ones, in the same order, each time the same logical flow is compiled. */
  conjId(): number
  /** Parsed logical flows by their text, kept across compilations (parsing is pure). */
  parseCache?: ParseCache
  /** Compiled logical flows by datapath, used again while nothing they looked up has changed (see lflow-cache.ts). */
  lflowCache?: LflowCache<CachedUnit>
}

/** A logical flow compiled for one datapath, as the lflow cache keeps it. */
export interface CachedUnit {
  /** The datapath row it was compiled for. */
  datapath: Datapath
  compiled: Compiled
}

/** A flow the controller wants, with its origin. */
export interface DesiredFlow extends Flow {
  /** UUID of the logical flow, or "physical:WHAT" for flows of the physical pipeline. */
  origin: string
  /** The match as the switch prints it, computed once (it is the flow's identity in diffs). */
  matchText: string
}

/** The result of compiling one logical flow for its local datapaths. */
export interface CompiledLflow {
  flows: DesiredFlow[]
  groups: GroupSpec[]
  /** Why it did not compile, per datapath name (the rest of its datapaths still compiled). */
  errors: string[]
  /** Its compiled form came from the lflow cache (nothing it looked up had changed). */
  fromCache: boolean
}

/** A logical flow's text parsed once, shared by all its datapaths. */
export interface Parsed {
  match: Expr
  actions: Action[]
  /** The texts name no logical port (see datapathIndependent): the flow compiles the same on every datapath of a kind. */
  independent: boolean
}

function parse(lf: LogicalFlow, symtab: SymbolTable, cache?: ParseCache): Parsed {
  // Keyed by the two texts as they are (no concatenation): a string keeps its hash, so a hit costs no hashing.
  let byActions = cache?.get(lf.match)
  const hit = byActions?.get(lf.actions)
  if (hit) return hit
  const parsed = parseText(lf, symtab)
  if (cache && !byActions) cache.set(lf.match, (byActions = new Map()))
  byActions?.set(lf.actions, parsed)
  return parsed
}

/** Parsed logical flows by match text, then actions text. */
export type ParseCache = Map<string, Map<string, Parsed>>

function parseText(lf: LogicalFlow, symtab: SymbolTable): Parsed {
  const actions = parseActions(lf.actions, symtab)
  const prereqs = actionPrereqs(actions, symtab)
  const match = parseExpr(lf.match, symtab)
  return {match: prereqs ? and([match, prereqs]) : match, actions, independent: datapathIndependent(lf)}
}

/** Compiles `lf` for each of `datapaths` (the local ones it applies to). */
export function compileLflow(lf: LogicalFlow, datapaths: readonly Datapath[], env: LflowEnv): CompiledLflow {
  const out: CompiledLflow = {flows: [], groups: [], errors: [], fromCache: false}
  const cookie = cookieOf(lf.uuid)
  // All datapaths or none come from the cache: a fresh compile hands out the flow's conjunction ids from its first.
  // A datapath's row read again (its key or kind may differ) is another object: its flows compile again.
  const cached = env.lflowCache?.get(lf, env)
  if (cached && datapaths.every((dp) => cached.get(dp.uuid)?.datapath === dp)) {
    out.fromCache = true
    for (const dp of datapaths) stamp(lf, cached.get(dp.uuid)!.compiled, dp, out, cookie)
    return out
  }
  let parsed: Parsed
  try {
    parsed = parse(lf, env.symtab, env.parseCache)
  } catch (err) {
    env.lflowCache?.delete(lf.uuid)
    out.errors.push((err as Error).message)
    return out
  }
  // A flow that names no port compiles the same on every datapath of a kind (switches and routers differ in
  // their conntrack zones): compile it once per kind and stamp each datapath's metadata, as ovn-controller does
  // for datapath groups. Other flows compile once per datapath.
  const recorder = new RecordingEnv(env)
  const lookups = {...env, ...lookupsOf(recorder)}
  const byKind = new Map<boolean, Compiled>()
  const units = new Map<string, CachedUnit>()
  for (const dp of datapaths) {
    try {
      let c = parsed.independent ? byKind.get(dp.isRouter) : undefined
      if (!c) c = compileOn(lf, parsed, dp, lookups)
      if (parsed.independent) byKind.set(dp.isRouter, c)
      units.set(dp.uuid, {datapath: dp, compiled: c})
      stamp(lf, c, dp, out, cookie)
    } catch (err) {
      out.errors.push(`datapath ${dp.name}: ${(err as Error).message}`)
    }
  }
  if (out.errors.length === 0) env.lflowCache?.set(lf, units, recorder.lookups)
  else env.lflowCache?.delete(lf.uuid)
  return out
}

/** The lookup functions of a recording env, as LflowEnv members. */
function lookupsOf(r: RecordingEnv): LookupEnv {
  return {portKey: (dp, name) => r.portKey(dp, name), isChassisResident: (name) => r.isChassisResident(name), addressSets: r.addressSets, portGroup: (dp, name) => r.portGroup(dp, name)}
}

/** Whether a logical flow's text refers to no logical port (no string constant, port group or chassis test). */
function datapathIndependent(lf: LogicalFlow): boolean {
  return !/["@]|is_chassis_resident/.test(lf.match) && !/["@]/.test(lf.actions)
}

/** One logical flow compiled for a datapath, before its metadata is added. */
export interface Compiled {
  matches: MatchResult
  actions: string
  groups: GroupSpec[]
  /** Its flows ready to stamp with a datapath, made on first use. */
  stencils?: Stencil[]
}

function compileOn(lf: LogicalFlow, parsed: Parsed, dp: Datapath, env: LflowEnv): Compiled {
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
  return {matches: toMatches(parsed.match, mctx), actions: encoded.ofActions, groups: encoded.groups}
}

/** A flow of a compiled logical flow without its datapath: its match text is formatted once around `metadata`. */
interface Stencil {
  match: Match
  around: [string, string] | undefined
  actions: string
}

function stencilsOf(c: Compiled): Stencil[] {
  const stencil = (match: Match, actions: string): Stencil => ({match, around: match.has('metadata') ? undefined : formatMatchAround(match, 'metadata'), actions})
  const out = c.matches.matches.map((m) => stencil(m, c.actions))
  for (const conj of c.matches.conjunctions) {
    out.push(stencil(conj.match, c.actions))
    for (const cl of conj.clauses) out.push(stencil(cl.match, `conjunction(${conj.id},${cl.k}/${cl.n})`))
  }
  return out
}

/**
 * A logical flow's OpenFlow flow on one datapath. Its match is built only when asked for (flows-dump, tests): the
 * controller itself compares and installs flows by their text, and 60,000 flows of maps would dominate its memory.
 */
class StampedFlow implements DesiredFlow {
  constructor(
    readonly table: number,
    readonly priority: number,
    readonly cookie: bigint,
    private readonly base: Match,
    private readonly metadata: bigint,
    readonly matchText: string,
    readonly actions: string,
    readonly origin: string,
  ) {}

  get match(): Match {
    return withField(this.base, 'metadata', this.metadata)
  }
}

/** Adds the flows of `c` on datapath `dp` to `out`. */
function stamp(lf: LogicalFlow, c: Compiled, dp: Datapath, out: CompiledLflow, cookie: bigint): void {
  const table = (lf.pipeline === 'ingress' ? ingressTableBase : egressTableBase) + lf.tableId
  const key = BigInt(dp.key)
  c.stencils ??= stencilsOf(c)
  const metadata = fieldText('metadata', key)
  for (const s of c.stencils) {
    const text = s.around ? joinAt(s.around, metadata) : formatMatch(withField(s.match, 'metadata', key))
    out.flows.push(new StampedFlow(table, lf.priority, cookie, s.match, key, text, s.actions, lf.uuid))
  }
  for (const g of c.groups) if (!out.groups.some((x) => x.id === g.id)) out.groups.push(g)
}

/** Whether a logical flow's text mentions a name (a port, address set or port group), so it must be recompiled when that changes. */
export function mentions(lf: LogicalFlow, name: string): boolean {
  return lf.match.includes(name) || lf.actions.includes(name)
}
