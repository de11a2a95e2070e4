/**
 * The controller's indexed view of its Southbound replica: rows by UUID and by the keys the compiler looks up
 * (port by name, ports of a datapath, datapaths of a group), kept current from replica events. Applying events
 * reports what changed, which is what decides how much to recompile.
 */
import type {ReplicaEvent} from '../idl/replica.js'
import {type LoadBalancer, readLoadBalancer} from './lb-hairpin.js'
import {type MacBinding, readMacBinding, readStaticMacBinding} from './mac-binding.js'
import {
  type ChassisRow,
  type Datapath,
  type LogicalFlow,
  type MulticastGroup,
  type PortBinding,
  readDatapath,
  readLogicalFlow,
  readMulticastGroup,
  readPortBinding,
  setOf,
} from './sb-model.js'

/** The Southbound tables the controller monitors, with the columns it reads. */
export const sbTables: Record<string, string[]> = {
  SB_Global: ['options', 'nb_cfg'],
  Chassis: ['name', 'hostname', 'encaps', 'external_ids', 'other_config'],
  Chassis_Private: ['name', 'chassis', 'nb_cfg'],
  Encap: ['type', 'ip', 'chassis_name', 'options'],
  Datapath_Binding: ['tunnel_key', 'external_ids'],
  Port_Binding: ['logical_port', 'datapath', 'tunnel_key', 'type', 'options', 'chassis', 'requested_chassis', 'up', 'mac', 'port_security'],
  Logical_Flow: ['logical_datapath', 'logical_dp_group', 'pipeline', 'table_id', 'priority', 'match', 'actions', 'external_ids', 'tags'],
  Logical_DP_Group: ['datapaths'],
  Multicast_Group: ['datapath', 'name', 'tunnel_key', 'ports'],
  Address_Set: ['name', 'addresses'],
  Port_Group: ['name', 'ports'],
  Load_Balancer: ['vips', 'protocol', 'datapaths', 'datapath_group', 'options'],
  MAC_Binding: ['logical_port', 'ip', 'mac', 'datapath'],
  Static_MAC_Binding: ['logical_port', 'ip', 'mac', 'override_dynamic_mac', 'datapath'],
}

/** What one batch of events changed, by kind. */
export interface SbChanges {
  lflows: Set<string>
  ports: Set<string>
  datapaths: boolean
  multicast: boolean
  chassis: boolean
  addressSets: Set<string>
  portGroups: Set<string>
}

/** An empty change set. */
export function noChanges(): SbChanges {
  return {lflows: new Set(), ports: new Set(), datapaths: false, multicast: false, chassis: false, addressSets: new Set(), portGroups: new Set()}
}

/** Indexed Southbound rows. */
export class SbIndex {
  readonly datapaths = new Map<string, Datapath>()
  readonly ports = new Map<string, PortBinding>()
  readonly portsByName = new Map<string, PortBinding>()
  readonly lflows = new Map<string, LogicalFlow>()
  readonly dpGroups = new Map<string, string[]>()
  readonly multicast = new Map<string, MulticastGroup>()
  /** Multicast groups by "DATAPATH-UUID/NAME". */
  readonly multicastByName = new Map<string, MulticastGroup>()
  readonly addressSets = new Map<string, string[]>()
  readonly portGroups = new Map<string, string[]>()
  readonly loadBalancers = new Map<string, LoadBalancer>()
  /** MAC_Binding and Static_MAC_Binding rows by UUID (mac-binding.ts). */
  readonly macBindings = new Map<string, MacBinding>()
  private readonly chassisRows = new Map<string, {name: string; encaps: string[]}>()
  private readonly encaps = new Map<string, {type: string; ip: string}>()
  private readonly addressSetNames = new Map<string, string>()
  private readonly portGroupNames = new Map<string, string>()

  /** Forgets every row (a new connection resends them). */
  clear(): void {
    for (const m of [this.datapaths, this.ports, this.portsByName, this.lflows, this.dpGroups, this.multicast, this.multicastByName, this.addressSets, this.portGroups, this.loadBalancers, this.macBindings, this.chassisRows, this.encaps, this.addressSetNames, this.portGroupNames]) m.clear()
  }

  /** Every chassis with its encapsulations. */
  chassis(): ChassisRow[] {
    return [...this.chassisRows].map(([uuid, c]) => ({uuid, name: c.name, encaps: c.encaps.map((e) => this.encaps.get(e)).filter((e) => e !== undefined)}))
  }

  /** The chassis row named `name`, if any. */
  chassisByName(name: string): ChassisRow | undefined {
    return this.chassis().find((c) => c.name === name)
  }

  /** Ports of a datapath. */
  portsOf(datapath: string): PortBinding[] {
    return [...this.ports.values()].filter((p) => p.datapath === datapath)
  }

  /** Applies events; returns what they changed. */
  apply(events: readonly ReplicaEvent[]): SbChanges {
    const ch = noChanges()
    for (const e of events) this.applyOne(e, ch)
    return ch
  }

  private applyOne(e: ReplicaEvent, ch: SbChanges): void {
    const gone = e.action === 'delete'
    switch (e.table) {
      case 'Logical_Flow':
        if (gone) this.lflows.delete(e.uuid)
        else this.lflows.set(e.uuid, readLogicalFlow(e.uuid, e.row))
        ch.lflows.add(e.uuid)
        return
      case 'Port_Binding': {
        const old = this.ports.get(e.uuid)
        if (old) {
          this.portsByName.delete(old.name)
          ch.ports.add(old.name)
        }
        this.ports.delete(e.uuid)
        if (!gone) {
          const p = readPortBinding(e.uuid, e.row)
          this.ports.set(e.uuid, p)
          this.portsByName.set(p.name, p)
          ch.ports.add(p.name)
        }
        return
      }
      case 'Datapath_Binding':
        if (gone) this.datapaths.delete(e.uuid)
        else this.datapaths.set(e.uuid, readDatapath(e.uuid, e.row))
        ch.datapaths = true
        return
      case 'Logical_DP_Group':
        if (gone) this.dpGroups.delete(e.uuid)
        else this.dpGroups.set(e.uuid, setOf(e.row.datapaths))
        ch.datapaths = true
        return
      case 'Multicast_Group': {
        const old = this.multicast.get(e.uuid)
        if (old) this.multicastByName.delete(`${old.datapath}/${old.name}`)
        this.multicast.delete(e.uuid)
        if (!gone) {
          const mc = readMulticastGroup(e.uuid, e.row)
          this.multicast.set(e.uuid, mc)
          this.multicastByName.set(`${mc.datapath}/${mc.name}`, mc)
        }
        ch.multicast = true
        return
      }
      case 'Chassis':
        if (gone) this.chassisRows.delete(e.uuid)
        else this.chassisRows.set(e.uuid, {name: String(e.row.name), encaps: setOf(e.row.encaps)})
        ch.chassis = true
        return
      case 'Encap':
        if (gone) this.encaps.delete(e.uuid)
        else this.encaps.set(e.uuid, {type: String(e.row.type), ip: String(e.row.ip)})
        ch.chassis = true
        return
      case 'Load_Balancer':
        if (gone) this.loadBalancers.delete(e.uuid)
        else this.loadBalancers.set(e.uuid, readLoadBalancer(e.uuid, e.row))
        return
      case 'MAC_Binding':
      case 'Static_MAC_Binding':
        // Their flows are rebuilt with the physical ones at every run (mac-binding.ts): no change flag needed.
        if (gone) this.macBindings.delete(e.uuid)
        else this.macBindings.set(e.uuid, e.table === 'MAC_Binding' ? readMacBinding(e.uuid, e.row) : readStaticMacBinding(e.uuid, e.row))
        return
      case 'Address_Set':
        this.named(e, this.addressSets, this.addressSetNames, 'addresses', ch.addressSets)
        return
      case 'Port_Group':
        this.named(e, this.portGroups, this.portGroupNames, 'ports', ch.portGroups)
        return
      default:
        return
    }
  }

  private named(e: ReplicaEvent, byName: Map<string, string[]>, names: Map<string, string>, column: string, changed: Set<string>): void {
    const old = names.get(e.uuid)
    if (old !== undefined) {
      byName.delete(old)
      changed.add(old)
    }
    names.delete(e.uuid)
    if (e.action === 'delete') return
    const name = String(e.row.name)
    names.set(e.uuid, name)
    byName.set(name, setOf(e.row[column]))
    changed.add(name)
  }
}
