/**
 * A large OVN topology for the controller benchmark, written through the real ovn-nbctl in batches (one
 * transaction per switch): SWITCHES logical switches of PORTS ports each, all attached to one router; port
 * groups with ACLs that use the port groups' address sets and named address sets; load balancers on the
 * switches. ovn-northd then turns it into the Southbound both controllers compile.
 */
import {execFile} from 'node:child_process'

/** Sizes of the generated topology. */
export interface TopologySize {
  switches: number
  portsPerSwitch: number
  portGroups: number
  addressSets: number
  addressesPerSet: number
  loadBalancers: number
  switchesPerLoadBalancer: number
}

/** The figures of the issue: 200 switches, 4,000 ports. */
export const defaultSize: TopologySize = {switches: 200, portsPerSwitch: 20, portGroups: 20, addressSets: 10, addressesPerSet: 100, loadBalancers: 20, switchesPerLoadBalancer: 10}

/** Runs ovn-nbctl with many commands in one transaction. */
export function nbctl(db: string, commands: string[][], timeoutMs = 120_000): Promise<string> {
  const args = [`--db=${db}`, `--timeout=${Math.round(timeoutMs / 1000)}`]
  commands.forEach((c, i) => args.push(...(i > 0 ? ['--'] : []), ...c))
  return new Promise((resolve, reject) => {
    execFile('ovn-nbctl', args, {timeout: timeoutMs, maxBuffer: 64 << 20}, (err, stdout, stderr) => (err ? reject(new Error(`ovn-nbctl failed: ${stderr || err.message}`)) : resolve(stdout)))
  })
}

const mac = (s: number, p: number) => `0a:00:00:${(s >> 8).toString(16).padStart(2, '0')}:${(s & 255).toString(16).padStart(2, '0')}:${p.toString(16).padStart(2, '0')}`
/** The IPv4 address of port p of switch s (switch s is 10.S_HI.S_LO.0/24 — s < 65536). */
export const portIp = (s: number, p: number) => `10.${s >> 8}.${s & 255}.${p + 10}`
/** The name of port p of switch s. */
export const portName = (s: number, p: number) => `sw${s}-p${p}`

/** Builds the topology; returns the number of logical switch ports made. */
export async function buildLargeTopology(db: string, size: TopologySize, onProgress: (done: number, total: number) => void = () => {}): Promise<number> {
  await nbctl(db, [['lr-add', 'lr0']])
  for (let s = 0; s < size.switches; s++) {
    const cmds: string[][] = [['ls-add', `sw${s}`]]
    for (let p = 0; p < size.portsPerSwitch; p++) {
      const name = portName(s, p)
      cmds.push(['lsp-add', `sw${s}`, name], ['lsp-set-addresses', name, `${mac(s, p)} ${portIp(s, p)}`])
    }
    const rp = `lr0-sw${s}`
    cmds.push(['lrp-add', 'lr0', rp, mac(s, 255), `10.${s >> 8}.${s & 255}.1/24`])
    cmds.push(['lsp-add', `sw${s}`, `sw${s}-lr0`], ['lsp-set-type', `sw${s}-lr0`, 'router'], ['lsp-set-addresses', `sw${s}-lr0`, 'router'], ['lsp-set-options', `sw${s}-lr0`, `router-port=${rp}`])
    await nbctl(db, cmds)
    onProgress(s + 1, size.switches)
  }
  const sets: string[][] = []
  for (let a = 0; a < size.addressSets; a++) {
    const addrs = Array.from({length: size.addressesPerSet}, (_, i) => `172.16.${a}.${i + 1}`)
    sets.push(["create", "Address_Set", `name=as${a}`, `addresses=${addrs.map((x) => JSON.stringify(x)).join(",")}`])
  }
  await nbctl(db, sets)
  for (let g = 0; g < size.portGroups; g++) {
    const members: string[] = []
    for (let s = 0; s < size.switches; s++) for (let p = g % size.portsPerSwitch; p < size.portsPerSwitch; p += size.portGroups) members.push(portName(s, p))
    await nbctl(db, [
      ['pg-add', `pg${g}`, ...members],
      ['acl-add', `pg${g}`, 'to-lport', '1002', `outport == @pg${g} && ip4.src == $pg${g}_ip4 && tcp.dst == {22, 80, 443}`, 'allow-related'],
      ['acl-add', `pg${g}`, 'from-lport', '1001', `inport == @pg${g} && ip4.dst == $as${g % size.addressSets}`, 'drop'],
      ['acl-add', `pg${g}`, 'to-lport', '1000', `outport == @pg${g} && ip4`, 'allow-related'],
    ])
  }
  for (let l = 0; l < size.loadBalancers; l++) {
    const backends = [0, 1, 2].map((b) => `${portIp(l % size.switches, b)}:8080`).join(',')
    const cmds: string[][] = [['lb-add', `lb${l}`, `192.168.${l}.1:80`, backends, 'tcp']]
    for (let k = 0; k < size.switchesPerLoadBalancer; k++) cmds.push(['ls-lb-add', `sw${(l * size.switchesPerLoadBalancer + k) % size.switches}`, `lb${l}`])
    await nbctl(db, cmds)
  }
  return size.switches * size.portsPerSwitch
}
