/**
 * Which tunnel ports the integration bridge needs (ovn-controller's encaps.c): one to every other chassis, of our
 * encapsulation type when that chassis offers it, to the address of its Encap; a port whose chassis left, or whose
 * address or type changed, is removed. Pure: returns the OVSDB operations and what they do, for the log.
 */
import type {BridgeView, ControllerConfig} from './config.js'
import {addTunnelOps, removeTunnelOp, tunnelPortName} from './ops.js'
import type {ChassisRow} from './sb-model.js'

/** The operations that bring the bridge's tunnel ports in line with the chassis, and a line per port added. */
export function tunnelChanges(config: ControllerConfig, bridge: BridgeView, chassis: readonly ChassisRow[]): {ops: unknown[]; added: string[]} {
  const wanted = new Map<string, {type: string; ip: string}>()
  for (const c of chassis) {
    if (c.name === config.systemId) continue
    const e = c.encaps.find((x) => x.type === config.encapType) ?? c.encaps.find((x) => x.type === 'geneve' || x.type === 'vxlan')
    if (e) wanted.set(c.name, e)
  }
  const ops: unknown[] = []
  const added: string[] = []
  const names = new Set<string>()
  for (const [name, t] of bridge.tunnels) {
    const w = wanted.get(name)
    if (!w || w.ip !== t.remoteIp || w.type !== t.type) ops.push(removeTunnelOp(bridge.uuid, t.port))
    else names.add(t.name)
  }
  let index = 0
  for (const [name, w] of wanted) {
    const t = bridge.tunnels.get(name)
    if (t && t.remoteIp === w.ip && t.type === w.type) continue
    // Two chassis whose names share their first 6 characters get "ovn-NAME-0", "ovn-NAME-1", ... as in OVN.
    let n = 0
    while (names.has(tunnelPortName(name, n))) n++
    names.add(tunnelPortName(name, n))
    ops.push(...addTunnelOps(bridge.uuid, name, tunnelPortName(name, n), w, index++))
    added.push(`${w.type} tunnel to chassis "${name}" at ${w.ip}`)
  }
  return {ops, added}
}
