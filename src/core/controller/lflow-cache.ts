/**
 * The compiled form of each logical flow kept across recomputes, with everything its compilation looked up
 * outside the flow's own text: port and multicast group tunnel keys, chassis residency, address set contents
 * and port group members (as reduced to the local ports). An entry is used again only when its texts and every
 * one of those answers are what they were, so a recompute from the cache yields what a cold compile would.
 * This is ovn-controller's lflow cache (lflow-cache.c: cached matches of a logical flow, dropped when what the
 * flow references changes), with the references checked by value instead of tracked by name.
 */
import type {Datapath, LogicalFlow} from './sb-model.js'

/** The answers a compilation can ask for (the controller's lookups, see LflowEnv). */
export interface LookupEnv {
  /** Tunnel key of a logical port or multicast group of a datapath. */
  portKey(datapath: Datapath, name: string): number | undefined
  isChassisResident(port: string): boolean
  addressSets: ReadonlyMap<string, readonly string[]>
  /** Members of a port group as a flow of `datapath` names it. */
  portGroup(datapath: Datapath, name: string): readonly string[] | undefined
}

/** One lookup a compilation made and the answer it got. */
export type Lookup =
  | {kind: 'port'; datapath: Datapath; name: string; key: number | undefined}
  | {kind: 'resident'; name: string; resident: boolean}
  | {kind: 'addressSet'; name: string; members: readonly string[] | undefined}
  | {kind: 'portGroup'; datapath: Datapath; name: string; members: readonly string[] | undefined}

/**
 * A LookupEnv that answers from `env` and records each distinct question with its answer, for the cache to ask
 * again later.
 */
export class RecordingEnv implements LookupEnv {
  private readonly seen = new Map<string, Lookup>()
  readonly addressSets: ReadonlyMap<string, readonly string[]>

  constructor(private readonly env: LookupEnv) {
    // Only `get` is used on address sets by the compiler (annotate.ts expandSets).
    this.addressSets = {get: (name: string) => this.addressSet(name)} as ReadonlyMap<string, readonly string[]>
  }

  /** Every distinct lookup made so far, with its answer. */
  get lookups(): Lookup[] {
    return [...this.seen.values()]
  }

  portKey(datapath: Datapath, name: string): number | undefined {
    return this.remember(`p\u0000${datapath.uuid}\u0000${name}`, () => ({kind: 'port', datapath, name, key: this.env.portKey(datapath, name)})).key
  }

  isChassisResident(name: string): boolean {
    return this.remember(`r\u0000${name}`, () => ({kind: 'resident', name, resident: this.env.isChassisResident(name)})).resident
  }

  portGroup(datapath: Datapath, name: string): readonly string[] | undefined {
    return this.remember(`g\u0000${datapath.uuid}\u0000${name}`, () => ({kind: 'portGroup', datapath, name, members: this.env.portGroup(datapath, name)})).members
  }

  private addressSet(name: string): readonly string[] | undefined {
    return this.remember(`a\u0000${name}`, () => ({kind: 'addressSet', name, members: this.env.addressSets.get(name)})).members
  }

  /** The lookup `id` as first made (one compilation asks the same question many times, and gets one answer). */
  private remember<L extends Lookup>(id: string, make: () => L): L {
    let l = this.seen.get(id) as L | undefined
    if (!l) this.seen.set(id, (l = make()))
    return l
  }
}

/** A logical flow's compiled form per datapath UUID with the lookups it depends on. */
interface Entry<T> {
  match: string
  actions: string
  pipeline: string
  tableId: number
  units: ReadonlyMap<string, T>
  lookups: readonly Lookup[]
}

/** Compiled logical flows by UUID, each valid while its texts and its lookups' answers are unchanged. */
export class LflowCache<T> {
  private readonly entries = new Map<string, Entry<T>>()

  /** @param entriesMax bound on the entries (logical flows); at the bound the cache starts empty again. */
  constructor(private readonly entriesMax: number) {}

  /** Number of logical flows held. */
  get size(): number {
    return this.entries.size
  }

  /**
   * The compiled form of `lf` by datapath UUID, if it is held, was compiled from the same texts, and every lookup
   * it made gets the same answer from `env` now.
   */
  get(lf: LogicalFlow, env: LookupEnv): ReadonlyMap<string, T> | undefined {
    const e = this.entries.get(lf.uuid)
    if (!e || e.match !== lf.match || e.actions !== lf.actions || e.pipeline !== lf.pipeline || e.tableId !== lf.tableId) return undefined
    for (const l of e.lookups) if (!stillTrue(l, env)) return undefined
    return e.units
  }

  /** Holds the compiled form of `lf` by datapath UUID, made with the lookups `lookups`. */
  set(lf: LogicalFlow, units: ReadonlyMap<string, T>, lookups: readonly Lookup[]): void {
    if (this.entries.size >= this.entriesMax && !this.entries.has(lf.uuid)) this.entries.clear()
    this.entries.set(lf.uuid, {match: lf.match, actions: lf.actions, pipeline: lf.pipeline, tableId: lf.tableId, units, lookups})
  }

  /** Forgets a logical flow (deleted, or failed to compile). */
  delete(uuid: string): void {
    this.entries.delete(uuid)
  }

  /** Forgets every logical flow but those `keep` accepts. */
  retain(keep: (uuid: string) => boolean): void {
    for (const uuid of this.entries.keys()) if (!keep(uuid)) this.entries.delete(uuid)
  }
}

function stillTrue(l: Lookup, env: LookupEnv): boolean {
  switch (l.kind) {
    case 'port':
      return env.portKey(l.datapath, l.name) === l.key
    case 'resident':
      return env.isChassisResident(l.name) === l.resident
    case 'addressSet':
      return sameList(env.addressSets.get(l.name), l.members)
    case 'portGroup':
      return sameList(env.portGroup(l.datapath, l.name), l.members)
  }
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === b) return true
  if (a === undefined || b === undefined || a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
