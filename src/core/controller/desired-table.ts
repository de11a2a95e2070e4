/**
 * The desired flow table, kept current by its sources (each logical flow, the physical flows) adding and removing
 * their flows, so that a change costs in proportion to the flows it touches (ovn-controller's ofctrl desired flow
 * table with its tracked changes). It remembers which flow identities changed since they were last taken: the
 * bundle to the switch is computed from those alone, not from a diff of the whole table.
 */
import type {DesiredFlow} from './lflow.js'

/** A flow's OpenFlow identity: table, priority, match (OpenFlow 1.5 §6.4). */
export function desiredKey(f: {table: number; priority: number; matchText: string}): string {
  return `${f.table}/${f.priority}/${f.matchText}`
}

/** The flows of every source by identity, and the one flow each identity resolves to. */
export class DesiredTable {
  /** Every source's flow of each identity (usually one). */
  private readonly contributions = new Map<string, DesiredFlow[]>()
  private readonly resolved = new Map<string, DesiredFlow>()
  private changed = new Set<string>()

  /** Number of flows (identities) in the table. */
  get size(): number {
    this.settle()
    return this.resolved.size
  }

  /** The flow of an identity, if any. */
  get(key: string): DesiredFlow | undefined {
    this.settle()
    return this.resolved.get(key)
  }

  /** Every flow, one per identity. */
  flows(): IterableIterator<DesiredFlow> {
    this.settle()
    return this.resolved.values()
  }

  /** Adds a source's flows. */
  add(flows: readonly DesiredFlow[]): void {
    for (const f of flows) {
      const key = desiredKey(f)
      const list = this.contributions.get(key)
      if (list) list.push(f)
      else this.contributions.set(key, [f])
      this.touch(key)
    }
  }

  /** Removes flows a source added before (the same objects). */
  remove(flows: readonly DesiredFlow[]): void {
    for (const f of flows) {
      const key = desiredKey(f)
      const list = this.contributions.get(key)
      const at = list ? list.indexOf(f) : -1
      if (at < 0) continue
      list!.splice(at, 1)
      if (list!.length === 0) this.contributions.delete(key)
      this.touch(key)
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

  /** Empties the table; every identity it held counts as changed. */
  clear(): void {
    for (const key of this.contributions.keys()) this.touch(key)
    this.contributions.clear()
  }

  /** The identities changed since the last call (their flows are `get`'s answer now; gone when undefined). */
  takeChanges(): Set<string> {
    this.settle()
    const out = this.changed
    this.changed = new Set()
    this.settled = new Set()
    return out
  }

  /** Identities of `changed` already resolved. */
  private settled = new Set<string>()

  private touch(key: string): void {
    this.changed.add(key)
    this.settled.delete(key)
  }

  private settle(): void {
    if (this.settled.size === this.changed.size) return
    for (const key of this.changed) {
      if (this.settled.has(key)) continue
      this.settled.add(key)
      const list = this.contributions.get(key)
      const f = list && resolve(list)
      if (f) this.resolved.set(key, f)
      else this.resolved.delete(key)
    }
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
