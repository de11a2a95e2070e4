/**
 * controller-run against the real ovn-controller, side by side on the same Southbound (issue: hypervisor
 * controller): a northd-generated topology of 200 switches with 4,000 ports joined by a router, port groups with
 * ACLs on their address sets and on named address sets, and load balancers. Both controllers run in turn on the
 * same ovs-vswitchd (userspace datapath, own network namespace) as chassis "hv1" with five local ports, which
 * makes every datapath local through the router. Measured per round:
 *
 * - full recompute: ovn-controller's "flow-generation" stopwatch for one `inc-engine/recompute` (its engine run,
 *   with its default lflow cache on, not the installation), against controller-run's compile time for one
 *   `recompute`: every local logical flow compiled or taken from the cache, the desired table rebuilt from them,
 *   and the physical flows (not the installation either). Both keep compiled logical flows across a recompute:
 *   ovn-controller in its lflow cache, controller-run in src/core/controller/lflow-cache.ts, each entry used
 *   again only while the port keys, address sets, port group members and chassis residency it looked up are
 *   unchanged;
 * - one added port: from `ovs-vsctl add-port` of a port already in the Southbound until its Port_Binding is up
 *   (both set "up" once the port's flows are in the switch);
 * - RSS of the controller process, and the number of flows in the switch.
 *
 * BENCH_ROUNDS (default 3) rounds; BENCH_SWITCHES and BENCH_PORTS scale the topology down for a quick look.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import {addVif, startHypervisor, type Hypervisor} from '../test/controller/hypervisor.js'
import {startOurs, startReal, type ControllerProcess} from '../test/controller/stack.js'
import {buildLargeTopology, defaultSize, nbctl, portName} from './lib/ovn-topology.js'
import {rssBytes} from './lib/peers.js'
import {type Comparison, median, report} from './lib/stats.js'

const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const size = {...defaultSize, switches: Number(process.env.BENCH_SWITCHES ?? defaultSize.switches), portsPerSwitch: Number(process.env.BENCH_PORTS ?? defaultSize.portsPerSwitch)}
const waitMs = 600_000

const log = (m: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = waitMs): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await sleep(100)
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)
}

function sbctl(sb: string, ...args: string[]): string {
  return execFileSync('ovn-sbctl', [`--db=${sb}`, '--timeout=60', ...args], {encoding: 'utf8', maxBuffer: 256 << 20})
}

function portUp(sb: string, name: string): boolean {
  return sbctl(sb, '--bare', '--columns=up', 'find', 'Port_Binding', `logical_port=${name}`).trim() === 'true'
}

function flowCount(hv: Hypervisor): number {
  const out = execFileSync('ovs-ofctl', ['dump-flows', `unix:${hv.dir}/br-int.mgmt`], {encoding: 'utf8', maxBuffer: 1 << 30})
  return out.split('\n').filter((l) => l.includes('actions=')).length
}

/** The flow count once it has not changed for `quietMs` (a controller installs a large table in several batches). */
async function stableFlows(hv: Hypervisor, quietMs = 3000): Promise<number> {
  let last = -1
  let since = Date.now()
  await until(async () => {
    const n = flowCount(hv)
    if (n !== last || n <= 100) (last = n), (since = Date.now())
    await sleep(250)
    return Date.now() - since >= quietMs
  }, 'the flow table to settle')
  return last
}

/** One controller's figures. */
interface Measure {
  recomputeMs: number
  addPortMs: number
  rssMiB: number
  flows: number
}

/** Time from add-port to up of a port that is in the Southbound already. */
async function addPortLatency(hv: Hypervisor, sb: string, name: string): Promise<number> {
  const start = performance.now()
  await addVif(hv, name)
  await until(() => portUp(sb, name), `${name} up`)
  return performance.now() - start
}

async function realRecomputeMs(hv: Hypervisor, c: ControllerProcess): Promise<number> {
  await hv.appctl(c.ctl, 'stopwatch/reset', 'flow-generation')
  await hv.appctl(c.ctl, 'inc-engine/recompute')
  let max = NaN
  await until(async () => {
    const out = await hv.appctl(c.ctl, 'stopwatch/show', 'flow-generation')
    const samples = Number(/Total samples: (\d+)/.exec(out)?.[1] ?? 0)
    max = Number(/Maximum: ([\d.]+) msec/.exec(out)?.[1] ?? NaN)
    return samples > 0
  }, 'a flow-generation sample')
  await sleep(2000) // let the stopwatch take the whole recompute, however many loop iterations it spans
  const out = await hv.appctl(c.ctl, 'stopwatch/show', 'flow-generation')
  return Number(/Maximum: ([\d.]+) msec/.exec(out)?.[1] ?? max)
}

async function oursRecomputeMs(hv: Hypervisor, c: ControllerProcess): Promise<number> {
  await hv.appctl(c.ctl, 'recompute')
  const status = await hv.appctl(c.ctl, 'connection-status')
  return Number(/last compile: ([\d.]+) ms/.exec(status)?.[1])
}

async function measure(kind: 'real' | 'ovnctl', hv: Hypervisor, sb: string, locals: string[], extra: string): Promise<Measure> {
  execFileSync('ovs-ofctl', ['del-flows', `unix:${hv.dir}/br-int.mgmt`])
  // Both controllers set "up" only once a port's flows are in the switch: start from "down" to wait for that.
  for (const p of locals) sbctl(sb, 'set', 'Port_Binding', p, 'up=false')
  const c = kind === 'real' ? startReal(hv) : startOurs(hv)
  try {
    await until(() => locals.every((p) => portUp(sb, p)), `${kind}: the local ports up`)
    const flows = await stableFlows(hv, 5000)
    log(`${kind}: ${flows} flows installed`)
    const recomputes: number[] = []
    for (let i = 0; i < 3; i++) recomputes.push(kind === 'real' ? await realRecomputeMs(hv, c) : await oursRecomputeMs(hv, c))
    log(`${kind}: recomputes ${recomputes.map((r) => r.toFixed(0)).join(', ')} ms`)
    const addPortMs = await addPortLatency(hv, sb, extra)
    const rssMiB = rssBytes(c.pid) / (1 << 20)
    return {recomputeMs: median(recomputes), addPortMs, rssMiB, flows}
  } finally {
    await c.stop()
    await hv.vsctl('--if-exists', 'del-port', 'br-int', extra)
    sbctl(sb, '--if-exists', 'chassis-del', 'hv1')
  }
}

function startDaemon(cmd: string, args: string[]): ChildProcess {
  return spawn(cmd, args, {stdio: 'ignore'})
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-bench-controller-'))
  const children: ChildProcess[] = []
  let hv: Hypervisor | undefined
  try {
    for (const [name, schema] of [['nb', '/usr/share/ovn/ovn-nb.ovsschema'], ['sb', '/usr/share/ovn/ovn-sb.ovsschema']]) {
      execFileSync('ovsdb-tool', ['create', path.join(dir, `${name}.db`), schema])
      children.push(startDaemon('ovsdb-server', [`--remote=punix:${dir}/${name}.sock`, `--unixctl=${dir}/${name}.ctl`, '--no-chdir', `--log-file=${dir}/${name}.log`, path.join(dir, `${name}.db`)]))
    }
    const nb = `unix:${dir}/nb.sock`
    const sb = `unix:${dir}/sb.sock`
    await until(() => fs.existsSync(`${dir}/sb.sock`) && fs.existsSync(`${dir}/nb.sock`), 'the databases')
    children.push(startDaemon('ovn-northd', [`--ovnnb-db=${nb}`, `--ovnsb-db=${sb}`, '--no-chdir', `--log-file=${dir}/northd.log`, `--unixctl=${dir}/northd.ctl`]))
    log(`building ${size.switches} switches x ${size.portsPerSwitch} ports`)
    const ports = await buildLargeTopology(nb, size, (d, t) => d % 50 === 0 && log(`  ${d}/${t} switches`))
    const extras = Array.from({length: rounds * 2}, (_, i) => `extra${i}`)
    await nbctl(nb, extras.map((e, i) => ['lsp-add', `sw${i % size.switches}`, e]))
    await nbctl(nb, [['--wait=sb', 'sync']], waitMs)
    const lflows = sbctl(sb, '--bare', '--columns=_uuid', 'list', 'Logical_Flow').split('\n').filter((l) => l.trim()).length
    log(`${ports} ports; northd wrote ${lflows} logical flows`)
    hv = await startHypervisor(dir, 'hv1', {'system-id': 'hv1', 'ovn-remote': sb, 'ovn-encap-type': 'geneve', 'ovn-encap-ip': '127.0.0.1'})
    const locals = [0, 1, 2, 3, 4].map((i) => portName(Math.floor((i * size.switches) / 5), 0))
    for (const p of locals) await addVif(hv, p)
    const results: {ovnctl: Measure[]; real: Measure[]} = {ovnctl: [], real: []}
    for (let r = 0; r < rounds; r++) {
      results.real.push(await measure('real', hv, sb, locals, extras[2 * r]))
      results.ovnctl.push(await measure('ovnctl', hv, sb, locals, extras[2 * r + 1]))
      log(`round ${r + 1}: real ${JSON.stringify(results.real[r])}, ovnctl ${JSON.stringify(results.ovnctl[r])}`)
    }
    const row = (metric: string, unit: string, key: keyof Measure, target?: string): Comparison => ({
      metric,
      unit,
      ovnctl: median(results.ovnctl.map((m) => m[key])),
      real: median(results.real.map((m) => m[key])),
      better: 'lower',
      target,
    })
    report(
      `controller-run vs ovn-controller (${size.switches} switches, ${ports} ports, ${lflows} logical flows)`,
      [row('full recompute', 'ms', 'recomputeMs', '<= 0.5x'), row('one added port, add-port to up', 'ms', 'addPortMs'), row('RSS', 'MiB', 'rssMiB'), row('flows in the switch', 'flows', 'flows', '1x')],
      rounds,
      'ovn-controller',
    )
  } finally {
    await hv?.stop()
    for (const c of children) c.kill('SIGTERM')
    await sleep(500)
    fs.rmSync(dir, {recursive: true, force: true})
  }
}

await main()
