/**
 * What is local to this chassis (ovn-controller's binding.c and local_data.c): the logical ports of local
 * interfaces (Interface external_ids:iface-id), the datapaths they are on, and every datapath reachable from
 * those through patch ports (a switch's router port leads into the router and on to its other switches), since
 * the ingress chassis runs the whole logical path. Also the conntrack zone table, kept across restarts in the
 * integration bridge's external_ids as "ct-zone-KEY" (ovn-controller's own convention, so zones survive a
 * switch-over between controllers).
 */
import type {SbIndex} from './sb-index.js'
import type {Datapath} from './sb-model.js'

/** The local datapaths (by UUID) for the local logical ports in `vifs` and the ports bound to `chassis`. */
export function localDatapaths(sb: SbIndex, vifs: ReadonlyMap<string, number>, chassis: string | undefined): Set<string> {
  const byDp = new Map<string, string[]>()
  for (const p of sb.ports.values()) {
    if (p.type !== 'patch' && p.type !== 'l3gateway') continue
    const list = byDp.get(p.datapath) ?? []
    list.push(p.name)
    byDp.set(p.datapath, list)
  }
  const local = new Set<string>()
  const todo: string[] = []
  const add = (dp: string | undefined) => {
    if (dp && !local.has(dp)) (local.add(dp), todo.push(dp))
  }
  for (const name of vifs.keys()) add(sb.portsByName.get(name)?.datapath)
  for (const p of sb.ports.values()) if (chassis !== undefined && p.chassis === chassis) add(p.datapath)
  while (todo.length > 0) {
    const dp = todo.pop()!
    for (const name of byDp.get(dp) ?? []) {
      const p = sb.portsByName.get(name)!
      if (p.type === 'l3gateway' && p.chassis !== chassis) continue
      add(sb.portsByName.get(p.options.peer ?? '')?.datapath)
    }
  }
  return local
}

/** The names a peer lookup needs that are not in the replica yet (to widen the Port_Binding condition). */
export function missingPeers(sb: SbIndex, local: ReadonlySet<string>): string[] {
  const out: string[] = []
  for (const p of sb.ports.values()) {
    if (!local.has(p.datapath) || (p.type !== 'patch' && p.type !== 'l3gateway')) continue
    const peer = p.options.peer
    if (peer && !sb.portsByName.has(peer)) out.push(peer)
  }
  return out
}

/** The prefix of the bridge external_ids keys holding zones. */
export const zoneKeyPrefix = 'ct-zone-'
/** Zone 0 is the default zone of the switch; OVN hands out 1 to 65535. */
export const zoneMax = 65535

/** Conntrack zones by key: a VIF's logical port name, or "DATAPATH-UUID_dnat" / "_snat". */
export class ZoneTable {
  private readonly zones = new Map<string, number>()

  /** Starts from the zones recorded in the bridge's external_ids. */
  constructor(bridgeExternalIds: Record<string, string> = {}) {
    for (const [k, v] of Object.entries(bridgeExternalIds)) {
      const n = Number(v)
      if (k.startsWith(zoneKeyPrefix) && Number.isInteger(n) && n > 0 && n <= zoneMax) this.zones.set(k.slice(zoneKeyPrefix.length), n)
    }
  }

  /** The zone of a key, if it has one. */
  get(key: string): number | undefined {
    return this.zones.get(key)
  }

  /** Zones of the datapath's DNAT and SNAT. */
  dnat(dp: Datapath): number {
    return this.zones.get(`${dp.uuid}_dnat`) ?? 0
  }

  /** See dnat. */
  snat(dp: Datapath): number {
    return this.zones.get(`${dp.uuid}_snat`) ?? 0
  }

  /**
   * Keeps exactly `keys`: frees the others, gives each new key the lowest free zone. Returns the external_ids
   * changes to record (key → zone, or null to remove), empty when nothing changed.
   */
  update(keys: Iterable<string>): Map<string, number | null> {
    const want = new Set(keys)
    const changes = new Map<string, number | null>()
    for (const k of [...this.zones.keys()]) {
      if (!want.has(k)) {
        this.zones.delete(k)
        changes.set(zoneKeyPrefix + k, null)
      }
    }
    const used = new Set(this.zones.values())
    let next = 1
    for (const k of [...want].sort()) {
      if (this.zones.has(k)) continue
      while (used.has(next) && next <= zoneMax) next++
      if (next > zoneMax) throw new Error(`Cannot give "${k}" a conntrack zone: all ${zoneMax} are in use`)
      this.zones.set(k, next)
      used.add(next)
      changes.set(zoneKeyPrefix + k, next)
    }
    return changes
  }
}
