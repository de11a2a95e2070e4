/**
 * The Southbound rows the controller uses (ovn-sb(5)), as plain typed values read from the replica's OVSDB
 * JSON. One reader per table; absent optional references read as undefined, sets as arrays, maps as objects.
 */
import {plainJson} from '../idl/display.js'
import type {JsonRow} from '../idl/monitor.js'

/** A set column as an array of plain values. */
export function setOf<T = string>(v: unknown): T[] {
  const p = plainJson(v)
  return (Array.isArray(p) ? p : p === undefined || p === null ? [] : [p]) as T[]
}

/** An optional (0..1) column: the value or undefined. */
export function optionalOf<T = string>(v: unknown): T | undefined {
  const s = setOf<T>(v)
  return s.length > 0 ? s[0] : undefined
}

/** A map column as a plain object. */
export function mapOf(v: unknown): Record<string, string> {
  const p = plainJson(v)
  return p && typeof p === 'object' && !Array.isArray(p) ? (p as Record<string, string>) : {}
}

/** ovn-sb(5) Datapath_Binding. */
export interface Datapath {
  uuid: string
  key: number
  name: string
  isRouter: boolean
}

/** ovn-sb(5) Port_Binding. */
export interface PortBinding {
  uuid: string
  name: string
  datapath: string
  key: number
  type: string
  options: Record<string, string>
  chassis?: string
  requestedChassis?: string
  up?: boolean
  mac: string[]
  /** port_security: "MAC [IP...]" entries (ovn-sb(5)); port-security.ts. */
  portSecurity: string[]
}

/** ovn-sb(5) Logical_Flow. */
export interface LogicalFlow {
  uuid: string
  datapath?: string
  dpGroup?: string
  pipeline: 'ingress' | 'egress'
  tableId: number
  priority: number
  match: string
  actions: string
  stage: string
  /** tags:in_out_port: the port whose inport (ingress) or outport (egress) the match tests, set by ovn-northd. */
  inOutPort?: string
}

/** ovn-sb(5) Multicast_Group. */
export interface MulticastGroup {
  uuid: string
  datapath: string
  name: string
  key: number
  ports: string[]
}

/** ovn-sb(5) Chassis with its Encaps resolved. */
export interface ChassisRow {
  uuid: string
  name: string
  encaps: Array<{type: string; ip: string}>
}

/** Reads a Datapath_Binding row. */
export function readDatapath(uuid: string, r: JsonRow): Datapath {
  const ids = mapOf(r.external_ids)
  return {uuid, key: Number(r.tunnel_key), name: ids.name ?? uuid, isRouter: 'logical-router' in ids}
}

/** Reads a Port_Binding row. */
export function readPortBinding(uuid: string, r: JsonRow): PortBinding {
  return {
    uuid,
    name: String(r.logical_port),
    datapath: optionalOf(r.datapath) ?? '',
    key: Number(r.tunnel_key),
    type: String(r.type ?? ''),
    options: mapOf(r.options),
    chassis: optionalOf(r.chassis),
    requestedChassis: optionalOf(r.requested_chassis),
    up: optionalOf<boolean>(r.up),
    mac: setOf(r.mac),
    portSecurity: setOf(r.port_security),
  }
}

/** Reads a Logical_Flow row. */
export function readLogicalFlow(uuid: string, r: JsonRow): LogicalFlow {
  return {
    uuid,
    datapath: optionalOf(r.logical_datapath),
    dpGroup: optionalOf(r.logical_dp_group),
    pipeline: r.pipeline === 'egress' ? 'egress' : 'ingress',
    tableId: Number(r.table_id),
    priority: Number(r.priority),
    match: String(r.match),
    actions: String(r.actions),
    stage: mapOf(r.external_ids)['stage-name'] ?? '',
    inOutPort: mapOf(r.tags)['in_out_port'],
  }
}

/** Reads a Multicast_Group row. */
export function readMulticastGroup(uuid: string, r: JsonRow): MulticastGroup {
  return {uuid, datapath: optionalOf(r.datapath) ?? '', name: String(r.name), key: Number(r.tunnel_key), ports: setOf(r.ports)}
}

/** The cookie OVN gives a flow derived from a row: the first 32 bits of the row's UUID (ovn-architecture(7)). */
export function cookieOf(uuid: string): bigint {
  return BigInt('0x' + uuid.slice(0, 8))
}
