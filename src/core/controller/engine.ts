/**
 * The incremental flow engine: keeps every local logical flow compiled, recompiles only what a Southbound
 * change affects, and assembles the desired table (logical flows + physical flows). What a change affects:
 * a changed logical flow itself; for a port, multicast group, address set or port group, the logical flows of
 * local datapaths that mention its name; a change of the set of local datapaths recompiles everything (as
 * ovn-controller falls back to a full recompute when its inputs change shape).
 */
import {ovnSymbolTable, type SymbolTable} from '../pipeline/symbols.js'
import type {GroupSpec} from '../pipeline/actions-encode.js'
import {compileLflow, mentions, type CachedUnit, type CompiledLflow, type DesiredFlow, type LflowEnv, type ParseCache} from './lflow.js'
import {LflowCache} from './lflow-cache.js'
import {DesiredTable, type TableChanges} from './desired-table.js'
import type {SbChanges, SbIndex} from './sb-index.js'
import type {Datapath, LogicalFlow} from './sb-model.js'

/** Bound on conjunction ids (OpenFlow conj_id is 32 bits). */
export const conjIdMax = 0xffffffff
/** Bound on the parse cache (entries: distinct match and action texts). */
export const parseCacheMax = 500_000

/** An error compiling one logical flow, for the log. */
export interface LflowError {
  uuid: string
  stage: string
  match: string
  actions: string
  message: string
}

/** What one engine run did. */
export interface EngineRun {
  full: boolean
  compiled: number
  /** Of the compiled logical flows, those whose compiled form came from the lflow cache. */
  fromCache: number
  errors: LflowError[]
}

/** The compiled state of the local logical flows. */
export class FlowEngine {
  private readonly cache = new Map<string, CompiledLflow>()
  private readonly groupIds = new Map<string, number>()
  private nextConj = 1
  /** Conjunction ids each logical flow used, reused in order when it is compiled again (no churn in the switch). */
  private readonly conjIds = new Map<string, number[]>()
  /** Parsed logical flow texts; bounded by parseCacheMax entries. */
  private readonly parseCache: ParseCache = new Map()
  /** Compiled logical flows with what they looked up, used again while that is unchanged; bounded by parseCacheMax entries. */
  private readonly lflowCache = new LflowCache<CachedUnit>(parseCacheMax)
  private readonly symtab: SymbolTable = ovnSymbolTable()
  /** The flows of every compiled logical flow and of the physical pipeline, by identity. */
  readonly table = new DesiredTable()
  private physical: readonly DesiredFlow[] = []
  local: ReadonlySet<string> = new Set()

  private localPorts: ReadonlySet<string> = new Set()
  /** Switches whose egress pipeline also runs here for their remote ports (egress-on-ingress.ts). */
  private egressHere: ReadonlySet<string> = new Set()

  /** Sets the switches whose egress pipeline runs here for every port; returns whether the set changed (recompute then). */
  setEgressOnIngress(datapaths: ReadonlySet<string>): boolean {
    if (sameSet(datapaths, this.egressHere)) return false
    this.egressHere = datapaths
    return true
  }

  constructor(
    private readonly sb: SbIndex,
    private readonly isChassisResident: (port: string) => boolean,
  ) {}

  /**
   * The logical ports local to this chassis (VIFs here, ports bound here). Port groups are reduced to them, as
   * ovn-controller does: `inport == @pg` is tested in the ingress pipeline, which runs where the packet enters,
   * and `outport == @pg` in the egress pipeline, which runs where the port is. Returns whether the set changed.
   */
  setLocalPorts(ports: ReadonlySet<string>): boolean {
    if (sameSet(ports, this.localPorts)) return false
    for (const p of ports) if (!this.localPorts.has(p)) this.localPortsDelta.add(p)
    for (const p of this.localPorts) if (!ports.has(p)) this.localPortsDelta.add(p)
    this.localPorts = ports
    this.localMembers = new WeakMap()
    return true
  }

  /**
   * The local members of each port group's member list (the Southbound index replaces a list when it changes),
   * so that every flow naming a group gets the same array: the lflow cache compares them at no cost.
   */
  private localMembers = new WeakMap<readonly string[], readonly string[]>()

  /** Ports that became local or stopped being local since the last engine run. */
  private readonly localPortsDelta = new Set<string>()

  /** Number of logical flows compiled and held. */
  get size(): number {
    return this.cache.size
  }

  /** The compiled form of a logical flow, if it is local. */
  compiled(uuid: string): CompiledLflow | undefined {
    return this.cache.get(uuid)
  }

  /** Empties the lflow cache: the next recompute compiles every logical flow cold (ovn-controller's lflow-cache/flush). */
  flushCache(): void {
    this.lflowCache.retain(() => false)
  }

  /** Number of logical flows held compiled in the lflow cache. */
  get cachedFlows(): number {
    return this.lflowCache.size
  }

  /** Compiles every logical flow of the local datapaths from scratch. */
  recompute(local: ReadonlySet<string>): EngineRun {
    this.local = local
    this.localPortsDelta.clear()
    this.cache.clear()
    this.table.clear()
    this.physical = []
    const run: EngineRun = {full: true, compiled: 0, fromCache: 0, errors: []}
    for (const lf of this.sb.lflows.values()) this.compile(lf, run)
    // Logical flows deleted in a batch that also changed the datapaths were never forgotten one by one.
    const exists = (uuid: string) => this.sb.lflows.has(uuid)
    this.lflowCache.retain(exists)
    for (const uuid of this.conjIds.keys()) if (!exists(uuid)) this.conjIds.delete(uuid)
    return run
  }

  /** Recompiles what `changes` affect; a change of the local datapath set is a full recompute. */
  update(changes: SbChanges, local: ReadonlySet<string>): EngineRun {
    if (changes.datapaths || !sameSet(local, this.local)) return this.recompute(local)
    const dirty = new Set(changes.lflows)
    // A port that became local (or stopped being) changes the flows that test it as their in_out_port and the
    // local members of the port groups it is in; a changed port (its tunnel key) changes the flows naming it or
    // a port group it is in. Only the flows naming those ports and groups are recompiled.
    const delta = [...this.localPortsDelta]
    this.localPortsDelta.clear()
    const groups = new Set(changes.portGroups)
    const touched = (p: string) => changes.ports.has(p) || delta.includes(p)
    for (const [name, members] of this.sb.portGroups) if (members.some(touched)) groups.add(name)
    const names = [...changes.ports, ...delta, ...(changes.multicast ? ['_MC_'] : [])]
    const sets = [...[...changes.addressSets].map((n) => `$${n}`), ...[...groups].map((n) => `@${n.replace(/^\d+_/, '')}`)]
    if (names.length > 0 || sets.length > 0) {
      for (const lf of this.sb.lflows.values()) {
        if (dirty.has(lf.uuid)) continue
        const hit = names.some((n) => mentions(lf, n)) || sets.some((s) => mentions(lf, s))
        if (hit && this.isLocal(lf)) dirty.add(lf.uuid)
      }
    }
    const run: EngineRun = {full: false, compiled: 0, fromCache: 0, errors: []}
    for (const uuid of dirty) {
      this.forget(uuid)
      const lf = this.sb.lflows.get(uuid)
      if (lf) this.compile(lf, run)
      else {
        this.conjIds.delete(uuid)
        this.lflowCache.delete(uuid)
      }
    }
    return run
  }

  /**
   * Puts `physical` (the physical pipeline's flows, recomputed by the caller) into the table in place of the last
   * ones, and returns the groups of the compiled logical flows and the identities of the table changed since the
   * last call.
   */
  desired(physical: readonly DesiredFlow[]): {groups: GroupSpec[]; changed: TableChanges} {
    this.physical = this.table.replace(this.physical, physical)
    const groups = new Map<number, GroupSpec>()
    for (const c of this.cache.values()) for (const g of c.groups) groups.set(g.id, g)
    return {groups: [...groups.values()], changed: this.table.takeChanges()}
  }

  /** Takes a logical flow's flows out of the table. */
  private forget(uuid: string): void {
    const old = this.cache.get(uuid)
    if (!old) return
    this.table.remove(old.flows)
    this.cache.delete(uuid)
  }

  private isLocal(lf: LogicalFlow): boolean {
    if (lf.datapath !== undefined) return this.local.has(lf.datapath)
    return (this.sb.dpGroups.get(lf.dpGroup ?? '') ?? []).some((d) => this.local.has(d))
  }

  private compile(lf: LogicalFlow, run: EngineRun): void {
    const dps = this.datapathsOf(lf)
    if (dps.length === 0) return
    if (lf.inOutPort !== undefined && !this.isRelated(lf.inOutPort) && !(lf.pipeline === 'egress' && dps.some((d) => this.egressHere.has(d.uuid)))) {
      // A flow for another chassis' port (ovn-controller skips it too): remember it compiled to nothing.
      this.forget(lf.uuid)
      this.cache.set(lf.uuid, {flows: [], groups: [], errors: [], fromCache: false})
      return
    }
    const ids = this.conjIds.get(lf.uuid) ?? []
    let used = 0
    const conjId = () => {
      if (used < ids.length) return ids[used++]
      const id = this.freshConjId()
      ids.push(id)
      used++
      return id
    }
    if (this.parseCache.size >= parseCacheMax) this.parseCache.clear()
    const c = compileLflow(lf, dps, {...this.env(), conjId})
    if (ids.length > 0) this.conjIds.set(lf.uuid, ids)
    this.forget(lf.uuid)
    this.cache.set(lf.uuid, c)
    this.table.add(c.flows)
    run.compiled++
    if (c.fromCache) run.fromCache++
    for (const message of c.errors) run.errors.push({uuid: lf.uuid, stage: lf.stage, match: lf.match, actions: lf.actions, message})
  }

  /**
   * Whether flows testing this port as inport (ingress) or outport (egress) belong on this chassis: the port is
   * local, or a patch, localport or localnet port (present on every chassis), or a remote port (ovn-controller's
   * related lports and its in_out_port check).
   */
  private isRelated(name: string): boolean {
    const p = this.sb.portsByName.get(name)
    if (!p) return false
    return this.localPorts.has(name) || ['patch', 'localport', 'localnet', 'remote'].includes(p.type)
  }

  private datapathsOf(lf: LogicalFlow): Datapath[] {
    const uuids = lf.datapath !== undefined ? [lf.datapath] : (this.sb.dpGroups.get(lf.dpGroup ?? '') ?? [])
    return uuids.filter((u) => this.local.has(u)).map((u) => this.sb.datapaths.get(u)).filter((d): d is Datapath => d !== undefined)
  }

  private freshConjId(): number {
    const id = this.nextConj
    this.nextConj = this.nextConj >= conjIdMax ? 1 : this.nextConj + 1
    return id
  }

  private envCache: LflowEnv | null = null

  private env(): LflowEnv {
    const sb = this.sb
    this.envCache ??= {
      symtab: this.symtab,
      portKey: (dp, name) => {
        // "none" is no port, tunnel key 0 (ovn-controller's lookup_port_cb; northd writes `outport == "none"`).
        if (name === 'none') return 0
        const p = sb.portsByName.get(name)
        if (p && p.datapath === dp.uuid) return p.key
        return sb.multicastByName.get(`${dp.uuid}/${name}`)?.key
      },
      isChassisResident: this.isChassisResident,
      addressSets: sb.addressSets,
      portGroup: (dp, name) => {
        const members = sb.portGroups.get(`${dp.key}_${name}`) ?? sb.portGroups.get(name)
        if (!members) return undefined
        // A switch whose egress pipeline runs here for remote ports tests `outport == @pg` for all of them.
        if (this.egressHere.has(dp.uuid)) return members
        let mine = this.localMembers.get(members)
        if (!mine) this.localMembers.set(members, (mine = members.filter((m) => this.localPorts.has(m))))
        return mine
      },
      groupId: (spec) => {
        let id = this.groupIds.get(spec)
        if (id === undefined) this.groupIds.set(spec, (id = this.groupIds.size + 1))
        return id
      },
      conjId: () => this.freshConjId(),
      parseCache: this.parseCache,
      lflowCache: this.lflowCache,
    }
    return this.envCache
  }
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false
  for (const x of a) if (!b.has(x)) return false
  return true
}
