/**
 * MAC binding flows (tables 66-67): controller-run against the real ovn-controller, in turn on the same
 * ovs-vswitchd (userspace datapath, own network namespace) and the same Southbound (the e2e topology of
 * test/controller/stack.ts: two switches and router lr0, every datapath local). Measured per round and peer:
 *
 * - N learned bindings arrive: from the return of one ovn-sbctl transaction creating N MAC_Binding rows on lr0
 *   (as N put_arp on other chassis would, in one batch) until table 66 holds N flows in the switch;
 * - they leave: from the return of `ovn-sbctl --all destroy MAC_Binding` until table 66 is empty;
 * - RSS of the controller with the N bindings installed.
 *
 * BENCH_ROUNDS (default 3) rounds; BENCH_BINDINGS (default 2000) bindings.
 */
import {execFileSync} from 'node:child_process'
import {canRunHypervisor, addVif, startHypervisor, type Hypervisor} from '../test/controller/hypervisor.js'
import {buildTopology, startCentral, startOurs, startReal, topologyPorts, type Central, type ControllerProcess} from '../test/controller/stack.js'
import {tempDir} from '../test/interop/lib.js'
import {rssBytes} from './lib/peers.js'
import {median, report} from './lib/stats.js'

const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const bindings = Number(process.env.BENCH_BINDINGS ?? 2000)
/** Bound on each wait for the switch to show what a controller installs. */
const waitMs = 120_000
/** How often the switch's table is polled. */
const pollMs = 20

const log = (m: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + waitMs
  while (Date.now() < deadline) {
    if (await check()) return
    await sleep(pollMs)
  }
  throw new Error(`Timed out after ${waitMs} ms waiting for ${what}`)
}

function table66(hv: Hypervisor): number {
  const out = execFileSync('ovs-ofctl', ['dump-flows', `unix:${hv.dir}/br-int.mgmt`, 'table=66'], {encoding: 'utf8', maxBuffer: 256 << 20})
  return out.split('\n').filter((l) => l.includes('actions=')).length
}

async function boundHere(c: Central, names: readonly string[]): Promise<boolean> {
  for (const name of names) {
    const [up, chassis] = (await c.sbctl('--bare', '--columns=up,chassis', 'find', 'Port_Binding', `logical_port=${name}`)).trim().split('\n').filter((l) => l.trim() !== '')
    if (up !== 'true' || !chassis) return false
  }
  return true
}

interface Measure {
  arriveMs: number
  leaveMs: number
  rssMiB: number
}

async function measure(kind: 'real' | 'ovnctl', central: Central, hv: Hypervisor, lr0: string): Promise<Measure> {
  execFileSync('ovs-ofctl', ['del-flows', `unix:${hv.dir}/br-int.mgmt`])
  const c: ControllerProcess = kind === 'real' ? startReal(hv) : startOurs(hv)
  try {
    await until(() => boundHere(central, topologyPorts.map((p) => p[1])), `${kind}: the ports bound and up`)
    const creates = Array.from({length: bindings}, (_, i) => ['--', 'create', 'MAC_Binding', 'logical_port=lr0-sw1', `ip=10.${100 + (i >> 8)}.${i & 255}.1`, `mac="02:00:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}"`, `datapath=${lr0}`]).flat()
    await central.sbctl(...creates.slice(1))
    let started = performance.now()
    await until(() => table66(hv) === bindings, `${kind}: ${bindings} flows in table 66`)
    const arriveMs = performance.now() - started
    const rssMiB = rssBytes(c.pid) / (1 << 20)
    await central.sbctl('--all', 'destroy', 'MAC_Binding')
    started = performance.now()
    await until(() => table66(hv) === 0, `${kind}: table 66 empty`)
    return {arriveMs, leaveMs: performance.now() - started, rssMiB}
  } finally {
    await c.stop()
    await central.sbctl('--all', 'destroy', 'MAC_Binding')
    await central.sbctl('--if-exists', 'chassis-del', 'hv1')
  }
}

async function main(): Promise<void> {
  if (!(await canRunHypervisor())) throw new Error('This benchmark needs root, ip netns and the OVS daemons')
  const tmp = tempDir()
  let central: Central | undefined
  let hv: Hypervisor | undefined
  try {
    central = await startCentral(tmp.dir)
    await buildTopology(central)
    const lr0 = (await central.sbctl('--bare', '--columns=_uuid', 'find', 'Datapath_Binding', 'external_ids:name=lr0')).trim()
    hv = await startHypervisor(tmp.dir, 'hv1', {'system-id': 'hv1', 'ovn-remote': central.sb, 'ovn-encap-type': 'geneve', 'ovn-encap-ip': '127.0.0.1', 'ovn-bridge': 'br-int'})
    for (const [, port] of topologyPorts) await addVif(hv, port)
    const results: {ovnctl: Measure[]; real: Measure[]} = {ovnctl: [], real: []}
    for (let r = 0; r < rounds; r++) {
      results.real.push(await measure('real', central, hv, lr0))
      results.ovnctl.push(await measure('ovnctl', central, hv, lr0))
      log(`round ${r + 1}: real ${JSON.stringify(results.real[r])}, ovnctl ${JSON.stringify(results.ovnctl[r])}`)
    }
    const row = (metric: string, unit: string, key: keyof Measure) => ({metric, unit, ovnctl: median(results.ovnctl.map((m) => m[key])), real: median(results.real.map((m) => m[key])), better: 'lower' as const})
    report(
      `MAC binding flows, controller-run vs ovn-controller (${bindings} MAC_Binding rows)`,
      [row(`${bindings} bindings created, to table 66 full`, 'ms', 'arriveMs'), row(`${bindings} bindings destroyed, to table 66 empty`, 'ms', 'leaveMs'), row('RSS with the bindings', 'MiB', 'rssMiB')],
      rounds,
      'ovn-controller',
    )
  } finally {
    await hv?.stop()
    await central?.stop()
    tmp.cleanup()
  }
}

await main()
