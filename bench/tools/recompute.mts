/**
 * The controller's full recompute in process, on the Southbound of the controller benchmark (not a test: mocha
 * does not load .mts files). Profile it with `node --cpu-prof --import tsx bench/tools/recompute.mts FILE`.
 *
 *   node --import tsx bench/tools/recompute.mts build FILE   writes the benchmark's northd-generated SB to FILE
 *   node --import tsx bench/tools/recompute.mts FILE [N]     N full recomputes (default 10), ms each and median
 *   node --import tsx bench/tools/recompute.mts FILE N check  then checks the table against a cold engine's
 *
 * The engine is the built one (`npx tsc -p tsconfig.build.json`), as controller-run runs it; OVNCTL_DIST names
 * another build's directory, to compare two builds on the same data.
 * The chassis has the benchmark's five local ports (one on each of five switches, every datapath local through
 * the router). The recompute is what controller-run times: the engine's recompute plus the physical flows'
 * entry into the desired table (the physical flows themselves are left out: they need a bridge).
 */
import {execFileSync, spawn, type ChildProcess} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import type {ReplicaEvent} from '../../src/core/idl/replica.js'
import type * as EngineModule from '../../src/core/controller/engine.js'
import type * as LocalModule from '../../src/core/controller/local.js'
import type * as SbIndexModule from '../../src/core/controller/sb-index.js'
import type * as FlowModule from '../../src/core/openflow/flow.js'
import {buildLargeTopology, defaultSize, nbctl, portName} from '../lib/ovn-topology.js'

const dist = path.resolve(process.env.OVNCTL_DIST ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist'))
const load = async <T,>(module: string) => (await import(path.join(dist, 'core', module))) as T
const {FlowEngine} = await load<typeof EngineModule>('controller/engine.js')
const {localDatapaths} = await load<typeof LocalModule>('controller/local.js')
const {SbIndex, sbTables} = await load<typeof SbIndexModule>('controller/sb-index.js')
const {formatFlow} = await load<typeof FlowModule>('openflow/flow.js')
type SbIndex = InstanceType<typeof SbIndex>

const chassisUuid = '00000000-0000-4000-8000-0000000000c1'

async function build(file: string): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-recompute-'))
  const children: ChildProcess[] = []
  try {
    for (const [name, schema] of [['nb', '/usr/share/ovn/ovn-nb.ovsschema'], ['sb', '/usr/share/ovn/ovn-sb.ovsschema']]) {
      execFileSync('ovsdb-tool', ['create', path.join(dir, `${name}.db`), schema])
      children.push(spawn('ovsdb-server', [`--remote=punix:${dir}/${name}.sock`, `--unixctl=${dir}/${name}.ctl`, '--no-chdir', path.join(dir, `${name}.db`)], {stdio: 'ignore'}))
    }
    for (let i = 0; i < 100 && !(fs.existsSync(`${dir}/sb.sock`) && fs.existsSync(`${dir}/nb.sock`)); i++) await new Promise((r) => setTimeout(r, 100))
    const nb = `unix:${dir}/nb.sock`
    children.push(spawn('ovn-northd', [`--ovnnb-db=${nb}`, `--ovnsb-db=unix:${dir}/sb.sock`, '--no-chdir', `--unixctl=${dir}/northd.ctl`], {stdio: 'ignore'}))
    await buildLargeTopology(nb, defaultSize, (d, t) => d % 50 === 0 && console.error(`${d}/${t} switches`))
    await nbctl(nb, [['--wait=sb', 'sync']], 600_000)
    fs.copyFileSync(path.join(dir, 'sb.db'), file)
  } finally {
    for (const c of children) c.kill('SIGTERM')
    await new Promise((r) => setTimeout(r, 500))
    fs.rmSync(dir, {recursive: true, force: true})
  }
}

/** Every row of the tables the controller monitors, as replica events (read offline with ovsdb-tool query). */
export function loadSb(file: string): ReplicaEvent[] {
  const ops = Object.keys(sbTables).map((table) => ({op: 'select', table, where: []}))
  const out = execFileSync('ovsdb-tool', ['query', file, JSON.stringify(['OVN_Southbound', ...ops])], {encoding: 'utf8', maxBuffer: 1 << 30})
  const results = JSON.parse(out) as {rows: Record<string, unknown>[]}[]
  const events: ReplicaEvent[] = []
  Object.keys(sbTables).forEach((table, i) => {
    for (const row of results[i].rows) {
      const uuid = (row._uuid as [string, string])[1]
      events.push({table, uuid, action: 'insert', row})
    }
  })
  return events
}

/** The benchmark's chassis: its five VIFs bound to it. */
export function benchChassis(events: ReplicaEvent[]): {sb: SbIndex; vifs: Map<string, number>} {
  const vifs = new Map([0, 1, 2, 3, 4].map((i) => [portName(Math.floor((i * defaultSize.switches) / 5), 0), i + 1]))
  for (const e of events) if (e.table === 'Port_Binding' && vifs.has(String(e.row.logical_port))) e.row = {...e.row, chassis: ['uuid', chassisUuid]}
  const sb = new SbIndex()
  sb.apply(events)
  return {sb, vifs}
}

/** The table as sorted flow texts. */
function tableText(engine: InstanceType<typeof FlowEngine>): string[] {
  engine.desired([])
  return [...engine.table.flows()].map(formatFlow).sort()
}

async function main(): Promise<void> {
  const [first, second, third] = process.argv.slice(2)
  if (first === 'build') return build(second)
  const {sb, vifs} = benchChassis(loadSb(first))
  const local = localDatapaths(sb, vifs, chassisUuid)
  const resident = (port: string) => sb.portsByName.get(port)?.chassis === chassisUuid
  const newEngine = () => {
    const e = new FlowEngine(sb, resident)
    e.setLocalPorts(new Set([...sb.ports.values()].filter((p) => vifs.has(p.name) || p.chassis === chassisUuid).map((p) => p.name)))
    return e
  }
  const engine = newEngine()
  const times: number[] = []
  for (let i = 0; i < Number(second ?? 10); i++) {
    const t = performance.now()
    const run = engine.recompute(local)
    engine.desired([])
    times.push(performance.now() - t)
    if (i === 0) console.log(`${local.size} local datapaths, ${run.compiled} logical flows compiled, ${engine.table.size} flows, ${run.errors.length} errors`)
  }
  console.log(`recomputes: ${times.map((t) => t.toFixed(0)).join(' ')} ms; median ${[...times].sort((a, b) => a - b)[times.length >> 1].toFixed(0)} ms`)
  if (third !== 'check') return
  const cold = newEngine()
  cold.recompute(local)
  const [a, b] = [tableText(engine), tableText(cold)]
  const differ = a.length !== b.length || a.some((line, i) => line !== b[i])
  console.log(differ ? `DIFFERENT from a cold compile: ${a.length} against ${b.length} flows` : `the same ${a.length} flows as a cold compile`)
  if (differ) process.exitCode = 1
}

await main()
