/**
 * The desired flow table, kept current by its sources (each logical flow, the physical flows) adding and removing
 * their flows, so that a change costs in proportion to the flows it touches (ovn-controller's ofctrl desired flow
 * table with its tracked changes). It remembers which flow identities changed since they were last taken: the
 * bundle to the switch is computed from those alone, not from a diff of the whole table (but for a recompute).
 */
import type {DesiredFlow} from './lflow.js'

/** A flow's OpenFlow identity: table, priority, match (OpenFlow 1.5 §6.4). */
export function desiredKey(f: {table: number; priority: number; matchText: string}): string {
  return `${f.table}/${f.priority}/${f.matchText}`
}

/** Which identities changed: some, or all of them (after the table was emptied and filled again). */
export type TableChanges = {all: true} | {all: false; keys: ReadonlySet<string>}

/** The flows of every source by identity. */
export class DesiredTable {
  /** Each identity's flow, or flows when several sources yield it (rare: shared conjunction clauses). */
  private readonly contributions = new Map<string, DesiredFlow | DesiredFlow[]>()
  private changed = new Set<string>()
  /** Emptied since the last take: every identity counts as changed, and none is tracked one by one. */
  private allChanged = false

  /** Number of flows (identities) in the table. */
  get size(): number {
    return this.contributions.size
  }

  /** The flow of an identity, if any. */
  get(key: string): DesiredFlow | undefined {
    const c = this.contributions.get(key)
    return Array.isArray(c) ? resolve(c) : c
  }

  /** Every flow, one per identity. */
  *flows(): IterableIterator<DesiredFlow> {
    for (const c of this.contributions.values()) {
      const f = Array.isArray(c) ? resolve(c) : c
      if (f) yield f
    }
  }

  /** Adds a source's flows. */
  add(flows: readonly DesiredFlow[]): void {
    for (const f of flows) {
      const key = desiredKey(f)
      const c = this.contributions.get(key)
      if (c === undefined) this.contributions.set(key, f)
      else if (Array.isArray(c)) c.push(f)
      else this.contributions.set(key, [c, f])
      if (!this.allChanged) this.changed.add(key)
    }
  }

  /** Removes flows a source added before (the same objects). */
  remove(flows: readonly DesiredFlow[]): void {
    for (const f of flows) {
      const key = desiredKey(f)
      const c = this.contributions.get(key)
      if (c === f) this.contributions.delete(key)
      else if (Array.isArray(c) && c.includes(f)) {
        const rest = c.filter((x) => x !== f)
        this.contributions.set(key, rest.length === 1 ? rest[0] : rest)
      } else continue
      if (!this.allChanged) this.changed.add(key)
    }
  }

  /**
   * Replaces a source's flows `old` (added before) by `next`, touching only the identities whose flow differs (a
   * source recomputed whole every run, as the physical flows are, then changes nothing when nothing changed).
   * Returns the source's flows now in the table.
   */
  replace(old: readonly DesiredFlow[], next: readonly DesiredFlow[]): DesiredFlow[] {
    const before = new Map<string, DesiredFlow[]>()
    for (const f of old) {
      const k = sameness(f)
      const list = before.get(k)
      if (list) list.push(f)
      else before.set(k, [f])
    }
    const kept: DesiredFlow[] = []
    const added: DesiredFlow[] = []
    for (const f of next) {
      const same = before.get(sameness(f))?.pop()
      if (same) kept.push(same)
      else added.push(f)
    }
    for (const list of before.values()) this.remove(list)
    this.add(added)
    return [...kept, ...added]
  }

  /** Empties the table: until the next take, every identity counts as changed. */
  clear(): void {
    this.contributions.clear()
    this.changed.clear()
    this.allChanged = true
  }

  /** What changed since the last call (`get` answers the flow of a changed identity now; undefined when gone). */
  takeChanges(): TableChanges {
    const out: TableChanges = this.allChanged ? {all: true} : {all: false, keys: this.changed}
    this.changed = new Set()
    this.allChanged = false
    return out
  }
}

/** What makes two flows of a source the same flow: identity, actions, cookie, origin. */
function sameness(f: DesiredFlow): string {
  return `${desiredKey(f)}\u0000${f.actions}\u0000${f.cookie}\u0000${f.origin}`
}

/**
 * The one flow that several sources' flows of one identity make. Conjunction clauses of several logical flows
 * are merged into one flow with all their `conjunction()` actions (ovs-fields(7) conj_id); otherwise
 * ovn-controller keeps one of them, the lowest UUID's. Sources are taken in UUID order, so the result does not
 * depend on the order they were added in (a restarted controller finds the switch's flows unchanged).
 */
function resolve(list: readonly DesiredFlow[]): DesiredFlow | undefined {
  if (list.length <= 1) return list[0]
  const sorted = [...list].sort((a, b) => (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0))
  let out = sorted[0]
  for (const f of sorted.slice(1)) {
    if (out.actions.startsWith('conjunction(') && f.actions.startsWith('conjunction(') && !out.actions.includes(f.actions)) {
      out = withActions(out, `${out.actions},${f.actions}`)
    }
  }
  return out
}

/** A copy of `f` with other actions (its class kept, so a match built on demand still is). */
function withActions(f: DesiredFlow, actions: string): DesiredFlow {
  return Object.assign(Object.create(Object.getPrototypeOf(f) as object) as DesiredFlow, f, {actions})
}
