/**
 * Two chassis joined by a Geneve underlay, for tests and benchmarks of tunnelled traffic: NB/SB (db-serve) with
 * the real ovn-northd, two hypervisors (each an ovsdb-server and a userspace ovs-vswitchd in its own network
 * namespace), a veth pair between the namespaces, each end on a bridge br-phy carrying the tunnel address, and
 * a logical switch sw0 with sw0-p1 on hv1 (10.0.0.11) and sw0-p2 on hv2 (10.0.0.12). The namespaces have IPv6
 * off and static neighbours, so that the underlay carries only the traffic a test sends.
 */
import {spawn} from 'node:child_process'
import path from 'node:path'
import {eventually, ok, run} from '../interop/lib.js'
import {addVif, startHypervisor, type Hypervisor} from './hypervisor.js'
import {startCentral, type Central, type ControllerProcess} from './stack.js'

/** The logical ports: name, MAC, IPv4. */
export const twoChassisPorts = [
  ['sw0-p1', '00:00:00:00:00:01', '10.0.0.11'],
  ['sw0-p2', '00:00:00:00:00:02', '10.0.0.12'],
] as const

/** Runs a command inside a hypervisor's namespace. */
export function inNs(hv: Hypervisor, ...args: string[]): Promise<string> {
  return ok('ip', ['netns', 'exec', hv.netns, ...args])
}

/** A stateless to-lport ACL on sw0-p2 dropping UDP to `port` (what the egress-on-ingress tests and benchmark filter). */
export async function dropUdpTo(c: Central, port: number): Promise<void> {
  await c.nbctl('acl-add', 'sw0', 'to-lport', '1001', `outport == "sw0-p2" && udp && udp.dst == ${port}`, 'drop')
}

/** The underlay: a veth end in the hypervisor's namespace, on a userspace bridge br-phy carrying the tunnel IP. */
export async function underlay(hv: Hypervisor, veth: string, ip: string): Promise<void> {
  await hv.vsctl('add-br', 'br-phy', '--', 'set', 'Bridge', 'br-phy', 'datapath_type=netdev', '--', 'add-port', 'br-phy', veth)
  await inNs(hv, 'ip', 'link', 'set', veth, 'up')
  await inNs(hv, 'ip', 'addr', 'add', `${ip}/24`, 'dev', 'br-phy')
  await inNs(hv, 'ip', 'link', 'set', 'br-phy', 'up')
}

/** Gives the tap of a logical port the port's addresses inside the hypervisor's namespace. */
export async function configureTap(hv: Hypervisor, tap: string, mac: string, ip: string): Promise<void> {
  await inNs(hv, 'ip', 'link', 'set', tap, 'address', mac)
  await inNs(hv, 'ip', 'addr', 'add', `${ip}/24`, 'dev', tap)
  await inNs(hv, 'ip', 'link', 'set', tap, 'up')
}

/** The running setup. */
export interface TwoChassis {
  central: Central
  hvs: Hypervisor[]
  /** The veth end in each hypervisor's namespace. */
  veth: string[]
  /** Packets and bytes sent so far by hv1's end of the underlay. */
  underlayTx(): Promise<{packets: number; bytes: number}>
  stop(): Promise<void>
}

/** Starts central, both hypervisors and the underlay in `dir`; `prepare` adds to the NB before the chassis come. */
export async function startTwoChassis(dir: string, prepare: (c: Central) => Promise<void> = async () => {}): Promise<TwoChassis> {
  const central = await startCentral(dir)
  const hvs: Hypervisor[] = []
  const veth = [`ovv1-${process.pid % 100000}`, `ovv2-${process.pid % 100000}`]
  const stop = async () => {
    for (const hv of hvs) await hv.stop()
    await central.stop()
  }
  try {
    await central.nbctl('ls-add', 'sw0')
    for (const [p, mac, ip] of twoChassisPorts) await central.nbctl('lsp-add', 'sw0', p, '--', 'lsp-set-addresses', p, `${mac} ${ip}`)
    await prepare(central)
    await central.nbctl('--wait=sb', 'sync')
    for (const [i, name] of ['hv1', 'hv2'].entries()) {
      const hv = await startHypervisor(dir, name, {'system-id': name, 'ovn-remote': central.sb, 'ovn-encap-type': 'geneve', 'ovn-encap-ip': `172.31.255.${i + 1}`})
      hvs.push(hv)
      await inNs(hv, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1')
    }
    await ok('ip', ['link', 'add', veth[0], 'type', 'veth', 'peer', 'name', veth[1]])
    for (const [i, hv] of hvs.entries()) {
      await ok('ip', ['link', 'set', veth[i], 'netns', hv.netns])
      await underlay(hv, veth[i], `172.31.255.${i + 1}`)
    }
  } catch (err) {
    await stop()
    throw err
  }
  const stat = async (name: string) => Number((await inNs(hvs[0], 'cat', path.join('/sys/class/net', veth[0], 'statistics', name))).trim())
  return {central, hvs, veth, underlayTx: async () => ({packets: await stat('tx_packets'), bytes: await stat('tx_bytes')}), stop}
}

/** Binds each port to its hypervisor's tap, configures the taps and waits until both ports are up and tunnels exist. */
export async function bindPorts(setup: TwoChassis): Promise<void> {
  const {central, hvs} = setup
  const ofports: number[] = []
  for (const [i, hv] of hvs.entries()) ofports.push(await addVif(hv, twoChassisPorts[i][0]))
  await eventually(async () => (await central.sbctl('--bare', '--columns=up', 'list', 'Port_Binding')).trim().split(/\s+/).join(',') === 'true,true', 60000, 'both ports up')
  for (const [i, hv] of hvs.entries()) {
    const other = `hv${2 - i}`
    await eventually(async () => Number((await hv.vsctl('get', 'Interface', `ovn-${other}-0`, 'ofport').catch(() => '-1')).trim()) > 0, 30000, `a tunnel port on ${hv.name} to ${other}`)
    const [tap, mac, ip] = twoChassisPorts[i]
    await configureTap(hv, tap, mac, ip)
    const [, peerMac, peerIp] = twoChassisPorts[1 - i]
    await inNs(hv, 'ip', 'neigh', 'replace', peerIp, 'lladdr', peerMac, 'dev', tap, 'nud', 'permanent')
    // Up and a tunnel port are not yet the flows to the other port: wait until a packet to it would be tunnelled.
    const packet = `in_port=${ofports[i]},udp,dl_src=${mac},dl_dst=${peerMac},nw_src=${ip},nw_dst=${peerIp},nw_ttl=64,udp_dst=9`
    await eventually(async () => /tnl_push/.test(await hv.trace(packet)), 60000, `${hv.name} to tunnel a packet to ${peerIp}`)
  }
  // The userspace datapath drops tunnelled packets until its tunnel neighbour cache knows the far end's MAC:
  // give it, so that measured runs do not lose their first packets to ARP.
  for (const [i, hv] of hvs.entries()) {
    const mac = (await inNs(hvs[1 - i], 'cat', '/sys/class/net/br-phy/address')).trim()
    await hv.appctl(path.join(hv.dir, 'vswitchd.ctl'), 'tnl/arp/set', 'br-phy', `172.31.255.${2 - i}`, mac)
  }
}

/** Counts datagrams per UDP port on 10.0.0.12 (`ports`) until 3 s pass without one; prints JSON {port: count}. */
const receiver = (ports: number[]) => `import json, socket, select
socks = {}
for p in ${JSON.stringify(ports)}:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("10.0.0.12", p))
    socks[s] = p
counts = {p: 0 for p in socks.values()}
print("ready", flush=True)
idle = 0
while idle < 30:
    ready, _, _ = select.select(list(socks), [], [], 0.1)
    if not ready:
        idle += 1
        continue
    idle = 0
    for s in ready:
        s.recvfrom(2048)
        counts[socks[s]] += 1
print(json.dumps(counts), flush=True)`

/** Sends to 10.0.0.12 datagrams of `bytes` bytes, for each [port, count] of `plan` `count` of them, interleaved, 1 ms apart. */
const sender = (plan: ReadonlyArray<readonly [number, number]>, bytes: number) => `import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
plan = ${JSON.stringify(plan)}
for i in range(max(c for _, c in plan)):
    for p, c in plan:
        if i < c:
            s.sendto(b"x" * ${bytes}, ("10.0.0.12", p))
    time.sleep(0.001)`

/** What one traffic run saw: datagrams received per port on hv2, and hv1's underlay packets and bytes. */
export interface TrafficResult {
  received: Record<string, number>
  underlayPackets: number
  underlayBytes: number
}

/** Sends from sw0-p1 to sw0-p2 `count` datagrams to each [port, count] of `plan`; counts what arrives and what crossed the underlay. */
export async function sendTraffic(setup: TwoChassis, plan: ReadonlyArray<readonly [number, number]>, bytes = 100): Promise<TrafficResult> {
  const ports = plan.map(([p]) => p)
  const [hv1, hv2] = setup.hvs
  const child = spawn('ip', ['netns', 'exec', hv2.netns, '/usr/bin/python3', '-c', receiver(ports)], {stdio: ['ignore', 'pipe', 'pipe']})
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  const exited = new Promise<number | null>((r) => child.once('exit', r))
  try {
    await eventually(() => out.includes('ready'), 10000, 'the UDP receiver on hv2')
    const before = await setup.underlayTx()
    const r = await run('ip', ['netns', 'exec', hv1.netns, '/usr/bin/python3', '-c', sender(plan, bytes)], {timeoutMs: 60000})
    if (r.code !== 0) throw new Error(`the UDP sender failed: ${r.stderr}`)
    const code = await Promise.race([exited, new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), 30000))])
    if (code !== 0) throw new Error(`the UDP receiver ended with ${code}: ${out}`)
    const after = await setup.underlayTx()
    const received = JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>
    return {received, underlayPackets: after.packets - before.packets, underlayBytes: after.bytes - before.bytes}
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM')
  }
}

/** Waits until hv1 would tunnel a datagram from sw0-p1 to sw0-p2's UDP port `port` with the Geneve option `option` (hex, as a trace prints it). */
export async function waitTunnelOption(setup: TwoChassis, port: number, option: string): Promise<void> {
  const hv1 = setup.hvs[0]
  const ofport = Number((await hv1.vsctl('get', 'Interface', twoChassisPorts[0][0], 'ofport')).trim())
  const [[, mac, ip], [, peerMac, peerIp]] = twoChassisPorts
  const packet = `in_port=${ofport},udp,dl_src=${mac},dl_dst=${peerMac},nw_src=${ip},nw_dst=${peerIp},nw_ttl=64,udp_dst=${port}`
  const want = new RegExp(`tnl_push\\(.*class=0x102,type=0x80,len=4,${option}\\b`)
  let last = ''
  try {
    await eventually(async () => want.test((last = await hv1.appctl(path.join(hv1.dir, 'vswitchd.ctl'), 'ofproto/trace', 'br-int', packet))), 60000, `hv1 to tunnel a datagram to port ${port} with option ${option}`)
  } catch (err) {
    throw new Error(`${(err as Error).message}; the last trace:\n${last}`)
  }
}

/** Waits until a controller's `connection-status` matches `state`; on a timeout, says what it last said and logged. */
export async function waitEgressStatus(hv: Hypervisor, c: ControllerProcess, state: RegExp): Promise<void> {
  let last = ''
  try {
    await eventually(async () => state.test((last = await hv.appctl(c.ctl, 'connection-status').catch((e) => String(e)))), 60000, `${hv.name}'s controller to report ${state}`)
  } catch (err) {
    throw new Error(`${(err as Error).message}; last connection-status: ${JSON.stringify(last)}; log tail:\n${c.log().slice(-2000)}`)
  }
}
