/**
 * Bringing the switch to the desired table: what the switch holds is remembered between runs, and each run sends
 * one atomic bundle (ovs-ofctl(8) "bundle") of the differences. After reading the switch (at start, after a failed
 * install, or for a `recompute`) the whole table is compared; otherwise only the flow identities the engine
 * reports changed, which is what keeps a one-port change cheap on a table of 64k flows.
 */
import {asInstalled, bundleFor, bundleForChanges, keyed, type BundleStats, type InstalledFlow} from '../openflow/bundle.js'
import type {OfctlSwitch} from '../openflow/switch.js'
import type {GroupSpec} from '../pipeline/actions-encode.js'
import type {DesiredTable, TableChanges} from './desired-table.js'

/** What one install did. */
export interface InstallResult {
  /** Number of bundle lines sent (0: the switch already held the table). */
  lines: number
  stats: BundleStats
  /** Flows in the switch now. */
  flows: number
}

/** The installed side of the controller. */
export class Installer {
  /** What the switch holds, as far as we know (null: read it again before the next install). */
  private installed: {flows: Map<string, InstalledFlow>; groups: Map<number, string>} | null = null

  /** Forgets what the switch holds: the next install reads it and compares the whole table. */
  forget(): void {
    this.installed = null
  }

  /** Sends `sw` the bundle that turns what it holds into `table` with `groups`; `changed` says where to look. */
  async install(sw: OfctlSwitch, desired: {table: DesiredTable; groups: readonly GroupSpec[]; changed: TableChanges}, options: {geneve: boolean}): Promise<InstallResult> {
    let keys = desired.changed.all ? undefined : desired.changed.keys
    if (!this.installed) {
      if (options.geneve) await sw.ensureGeneveOption()
      this.installed = {flows: keyed(await sw.dumpFlows()), groups: new Map(await sw.dumpGroups())}
      keys = undefined
    }
    const table = desired.table
    const want = (key: string) => {
      const f = table.get(key)
      return f && asInstalled(f)
    }
    const groups = new Map(desired.groups.map((g) => [g.id, g.text]))
    const whole = keys ? undefined : keyed([...table.flows()].map(asInstalled))
    const {lines, stats} = whole ? bundleFor(this.installed, {flows: whole, groups}) : bundleForChanges(this.installed, {flows: want, groups}, keys!)
    try {
      await sw.applyBundle(lines)
    } catch (err) {
      this.installed = null // read the switch again next time: we do not know what it holds
      throw err
    }
    if (whole) this.installed.flows = whole
    else {
      for (const key of keys!) {
        const f = want(key)
        if (f) this.installed.flows.set(key, f)
        else this.installed.flows.delete(key)
      }
    }
    this.installed.groups = groups
    return {lines: lines.length, stats, flows: this.installed.flows.size}
  }
}
