/**
 * The controller's configuration, read as ovn-controller(8) reads it from the local Open_vSwitch database
 * (Open_vSwitch external_ids: system-id, ovn-remote, ovn-encap-type, ovn-encap-ip, ovn-bridge,
 * ovn-monitor-all), each overridable by a flag. Also the local view of the integration bridge: its
 * interfaces with `external_ids:iface-id` and their OpenFlow ports, and the tunnel ports to other chassis.
 */
import type {JsonRow} from '../idl/monitor.js'
import {mapOf, optionalOf, setOf} from './sb-model.js'

/** Encapsulations ovn-controller accepts (ovn-controller(8) external_ids:ovn-encap-type). */
export const encapTypes = ['geneve', 'vxlan'] as const

/** The configuration in effect. */
export interface ControllerConfig {
  systemId: string
  remote: string
  encapType: (typeof encapTypes)[number]
  encapIp: string
  bridge: string
  monitorAll: boolean
}

/** Flags that override the database's values. */
export type ConfigOverrides = Partial<ControllerConfig>

/** A configuration value that is missing or wrong, named for the log. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

/** The configuration from the Open_vSwitch row's external_ids and the overrides; throws ConfigError naming what is missing. */
export function readConfig(externalIds: Record<string, string>, overrides: ConfigOverrides): ControllerConfig {
  const get = (key: string) => externalIds[key]
  const systemId = overrides.systemId ?? get('system-id')
  const remote = overrides.remote ?? get('ovn-remote')
  const encapType = (overrides.encapType ?? get('ovn-encap-type') ?? 'geneve').split(',')[0].trim()
  const encapIp = overrides.encapIp ?? get('ovn-encap-ip')
  if (!systemId) throw new ConfigError('No chassis name: set external_ids:system-id in the Open_vSwitch table (or give --system-id)')
  if (!remote) throw new ConfigError('No Southbound database: set external_ids:ovn-remote in the Open_vSwitch table (or give --ovn-remote)')
  if (!encapIp) throw new ConfigError('No tunnel endpoint: set external_ids:ovn-encap-ip in the Open_vSwitch table (or give --encap-ip)')
  if (!(encapTypes as readonly string[]).includes(encapType)) throw new ConfigError(`Unsupported encapsulation "${encapType}": use ${encapTypes.join(' or ')}`)
  return {
    systemId,
    remote,
    encapType: encapType as ControllerConfig['encapType'],
    encapIp,
    bridge: overrides.bridge ?? get('ovn-bridge') ?? 'br-int',
    monitorAll: overrides.monitorAll ?? get('ovn-monitor-all') === 'true',
  }
}

/** The integration bridge as the OVS database describes it. */
export interface BridgeView {
  uuid: string
  externalIds: Record<string, string>
  /** OpenFlow port of each interface with an iface-id, by logical port name (ports without an ofport yet are left out). */
  vifs: Map<string, number>
  /** Interface UUID of each iface-id, for marking it installed. */
  vifInterfaces: Map<string, string>
  /** Tunnel interfaces we made, by remote chassis name: port UUID and OpenFlow port (-1 until assigned). */
  tunnels: Map<string, {port: string; name: string; ofport: number; remoteIp: string; type: string}>
}

/** Reads the bridge named `name` from the OVS replica's Bridge, Port and Interface rows. */
export function readBridge(name: string, tables: {Bridge: ReadonlyMap<string, JsonRow>; Port: ReadonlyMap<string, JsonRow>; Interface: ReadonlyMap<string, JsonRow>}): BridgeView | undefined {
  const entry = [...tables.Bridge].find(([, b]) => b.name === name)
  if (!entry) return undefined
  const [uuid, bridge] = entry
  const view: BridgeView = {uuid, externalIds: mapOf(bridge.external_ids), vifs: new Map(), vifInterfaces: new Map(), tunnels: new Map()}
  for (const portUuid of setOf(bridge.ports)) {
    const port = tables.Port.get(portUuid)
    if (!port) continue
    for (const ifUuid of setOf(port.interfaces)) {
      const iface = tables.Interface.get(ifUuid)
      if (!iface) continue
      const ids = mapOf(iface.external_ids)
      const ofport = Number(optionalOf(iface.ofport) ?? -1)
      const chassisId = ids['ovn-chassis-id']
      if (chassisId !== undefined) {
        view.tunnels.set(chassisId, {port: portUuid, name: String(iface.name), ofport, remoteIp: mapOf(iface.options).remote_ip ?? '', type: String(iface.type)})
      } else if (ids['iface-id'] !== undefined && ofport > 0) {
        view.vifs.set(ids['iface-id'], ofport)
        view.vifInterfaces.set(ids['iface-id'], ifUuid)
      }
    }
  }
  return view
}
