/**
 * The transactions the controller writes (RFC 7047 §5.2 operations), built as values: registering the chassis
 * in the Southbound (Chassis, its Encap, Chassis_Private: ovn-sb(5)), claiming and releasing Port_Binding rows,
 * and in the local Open_vSwitch database the tunnel ports to other chassis, the conntrack zones kept in the
 * bridge's external_ids, and `external_ids:ovn-installed` on interfaces whose flows are in the switch.
 */
import type {ControllerConfig} from './config.js'

const byUuid = (uuid: string) => [['_uuid', '==', ['uuid', uuid]]]

/**
 * The features this controller supports, advertised in Chassis other_config as ovn-controller 23.03 does;
 * ovn-northd writes some logical flows differently when every chassis has one (ct-no-masked-label: ct_mark.blocked
 * instead of ct_label.blocked; port-up-notif: it relies on Port_Binding "up").
 */
export const chassisFeatures: ReadonlyArray<[string, string]> = [
  ['ct-no-masked-label', 'true'],
  ['is-interconn', 'false'],
  ['mac-binding-timestamp', 'true'],
  ['ovn-ct-lb-related', 'true'],
  ['port-up-notif', 'true'],
]

/** Inserts this chassis with its Encap and Chassis_Private (when `existing` is undefined), or updates its encapsulation. */
export function registerChassisOps(config: ControllerConfig, hostname: string, existing: {uuid: string; privateExists: boolean} | undefined): unknown[] {
  const encap = {type: config.encapType, ip: config.encapIp, chassis_name: config.systemId, options: ['map', [['csum', 'true']]]}
  const otherConfig = ['map', [...chassisFeatures, ['ovn-monitor-all', String(config.monitorAll)]].sort()]
  const ops: unknown[] = [{op: 'insert', table: 'Encap', row: encap, 'uuid-name': 'encap'}]
  if (existing === undefined) {
    ops.push({op: 'insert', table: 'Chassis', row: {name: config.systemId, hostname, encaps: ['named-uuid', 'encap'], other_config: otherConfig}, 'uuid-name': 'chassis'})
    ops.push({op: 'insert', table: 'Chassis_Private', row: {name: config.systemId, chassis: ['named-uuid', 'chassis']}})
    return ops
  }
  ops.push({op: 'update', table: 'Chassis', where: byUuid(existing.uuid), row: {hostname, encaps: ['named-uuid', 'encap'], other_config: otherConfig}})
  if (!existing.privateExists) ops.push({op: 'insert', table: 'Chassis_Private', row: {name: config.systemId, chassis: ['uuid', existing.uuid]}})
  return ops
}

/** Binds a port to this chassis (ovn-sb(5) Port_Binding "chassis"); `up` once its flows are installed. */
export function claimOp(port: string, chassis: string, up: boolean): unknown {
  return {op: 'update', table: 'Port_Binding', where: byUuid(port), row: {chassis: ['uuid', chassis], up}}
}

/** Unbinds a port whose interface left this chassis. */
export function releaseOp(port: string): unknown {
  return {op: 'update', table: 'Port_Binding', where: byUuid(port), row: {chassis: ['set', []], up: false}}
}

/** Records zone changes in the bridge's external_ids (null removes a key). */
export function zoneOps(bridge: string, changes: ReadonlyMap<string, number | null>): unknown[] {
  if (changes.size === 0) return []
  const keys = [...changes.keys()]
  const set = [...changes].filter(([, v]) => v !== null).map(([k, v]) => [k, String(v)])
  const mutations: unknown[] = [['external_ids', 'delete', ['set', keys]]]
  if (set.length > 0) mutations.push(['external_ids', 'insert', ['map', set]])
  return [{op: 'mutate', table: 'Bridge', where: byUuid(bridge), mutations}]
}

/** The name ovn-controller gives the tunnel port to a chassis: "ovn-", the first 6 characters of its name, "-N". */
export function tunnelPortName(chassis: string, n = 0): string {
  return `ovn-${chassis.slice(0, 6)}-${n}`
}

/** Adds a tunnel port `name` to `chassis` on the bridge; `index` tells apart the rows of one transaction. */
export function addTunnelOps(bridge: string, chassis: string, name: string, encap: {type: string; ip: string}, index: number): unknown[] {
  const {type, ip} = encap
  const options = [['remote_ip', ip], ['key', 'flow'], ...(type === 'geneve' ? [['csum', 'true']] : [])]
  return [
    {op: 'insert', table: 'Interface', row: {name, type, options: ['map', options], external_ids: ['map', [['ovn-chassis-id', chassis]]]}, 'uuid-name': `if${index}`},
    {op: 'insert', table: 'Port', row: {name, interfaces: ['named-uuid', `if${index}`], external_ids: ['map', [['ovn-chassis-id', chassis]]]}, 'uuid-name': `port${index}`},
    {op: 'mutate', table: 'Bridge', where: byUuid(bridge), mutations: [['ports', 'insert', ['set', [['named-uuid', `port${index}`]]]]]},
  ]
}

/** Removes a tunnel port from the bridge (the Port and its Interface go with it: they are not root rows). */
export function removeTunnelOp(bridge: string, port: string): unknown {
  return {op: 'mutate', table: 'Bridge', where: byUuid(bridge), mutations: [['ports', 'delete', ['set', [['uuid', port]]]]]}
}

/** Marks an interface's flows as installed (ovn-controller(8) Interface external_ids:ovn-installed). */
export function installedOp(iface: string): unknown {
  return {op: 'mutate', table: 'Interface', where: byUuid(iface), mutations: [['external_ids', 'insert', ['map', [['ovn-installed', 'true']]]]]}
}

/** Tells ovn-northd (and `ovn-nbctl --wait=hv`) that this chassis has caught up with `nbCfg` (ovn-sb(5) Chassis_Private). */
export function nbCfgOp(chassisPrivate: string, nbCfg: number): unknown {
  return {op: 'update', table: 'Chassis_Private', where: byUuid(chassisPrivate), row: {nb_cfg: nbCfg}}
}
