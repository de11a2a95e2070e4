import assert from 'node:assert/strict'
import {type ChildProcess, spawn} from 'node:child_process'
import path from 'node:path'
import {buildTopology} from './topology.js'
import {nbSchema, ok, requireBuild, sbSchema, type ServerProcess, startDbServe, startOvsdbServer, tempDir} from './lib.js'

interface Stack {
  nb: string
  sb: string
  servers: ServerProcess[]
  northd: ChildProcess
}

/** ovnctl's db-serve, the real ovsdb-server, or db-serve serving its clients from 2 I/O threads. */
async function startStack(dir: string, kind: 'ovnctl' | 'real' | 'threads'): Promise<Stack> {
  const nbFile = path.join(dir, `${kind}-nb.db`)
  const sbFile = path.join(dir, `${kind}-sb.db`)
  await ok('ovsdb-tool', ['create', nbFile, nbSchema])
  await ok('ovsdb-tool', ['create', sbFile, sbSchema])
  const extra = kind === 'threads' ? ['--io-threads=2'] : []
  const start = kind === 'real' ? (f: string, n: string) => startOvsdbServer(dir, [f], n) : (f: string, n: string) => startDbServe(dir, [f], extra, n)
  const nbServer = await start(nbFile, `${kind}-nb`)
  const sbServer = await start(sbFile, `${kind}-sb`)
  const nb = `unix:${nbServer.sock}`
  const sb = `unix:${sbServer.sock}`
  const northd = spawn('ovn-northd', [`--ovnnb-db=${nb}`, `--ovnsb-db=${sb}`, '--no-chdir', `--unixctl=${path.join(dir, kind + '-northd.ctl')}`, `--log-file=${path.join(dir, kind + '-northd.log')}`], {stdio: 'ignore'})
  return {nb, sb, servers: [nbServer, sbServer], northd}
}

async function stopStack(stack: Stack | undefined): Promise<void> {
  if (!stack) return
  stack.northd.kill('SIGTERM')
  for (const s of stack.servers) await s.stop()
}

async function sbRows(sb: string, table: string): Promise<number> {
  const out = await ok('ovn-sbctl', [`--db=${sb}`, '--bare', '--columns=_uuid', 'list', table])
  return out.split('\n').filter((l) => l.trim()).length
}

describe('ovn-northd against db-serve', function () {
  this.timeout(120000)
  let tmp: ReturnType<typeof tempDir>
  let ours: Stack | undefined
  let real: Stack | undefined
  let threads: Stack | undefined

  before(async () => {
    requireBuild()
    tmp = tempDir()
    ours = await startStack(tmp.dir, 'ovnctl')
    real = await startStack(tmp.dir, 'real')
    threads = await startStack(tmp.dir, 'threads')
  })
  after(async () => {
    await stopStack(ours)
    await stopStack(real)
    await stopStack(threads)
    tmp?.cleanup()
  })

  it('produces as many logical flows from the same NB content as with the real ovsdb-server', async () => {
    // ovn-northd holds the Southbound lock "ovn_northd" and asserts it in its writes: through I/O threads too.
    for (const stack of [ours!, real!, threads!]) {
      await buildTopology(stack.nb)
      // --wait=sb returns once northd has written the SB for this NB content (NB_Global.sb_cfg).
      await ok('ovn-nbctl', [`--db=${stack.nb}`, '--timeout=30', '--wait=sb', 'sync'], {timeoutMs: 40000})
    }
    const counts = {ours: await sbRows(ours!.sb, 'Logical_Flow'), real: await sbRows(real!.sb, 'Logical_Flow'), threads: await sbRows(threads!.sb, 'Logical_Flow')}
    assert.ok(counts.real > 100, `the real stack produced only ${counts.real} logical flows`)
    assert.equal(counts.ours, counts.real, `Logical_Flow rows: ovnctl ${counts.ours}, real ${counts.real}`)
    assert.equal(counts.threads, counts.real, `Logical_Flow rows: ovnctl with I/O threads ${counts.threads}, real ${counts.real}`)
    for (const table of ['Datapath_Binding', 'Port_Binding', 'Multicast_Group', 'Load_Balancer']) {
      assert.equal(await sbRows(ours!.sb, table), await sbRows(real!.sb, table), `${table} rows differ`)
      assert.equal(await sbRows(threads!.sb, table), await sbRows(real!.sb, table), `${table} rows differ through I/O threads`)
    }
  })

  it('lets ovn-sbctl register a chassis and bind a port in the southbound northd wrote', async () => {
    const sbctl = (...args: string[]) => ok('ovn-sbctl', [`--db=${ours!.sb}`, '--timeout=10', ...args])
    await sbctl('chassis-add', 'hv1', 'geneve', '127.0.0.2')
    await sbctl('lsp-bind', 'sw0-p1', 'hv1')
    const show = await sbctl('show')
    assert.match(show, /Chassis hv1/)
    assert.match(show, /Port_Binding sw0-p1/)
    assert.equal((await sbctl('--bare', '--columns=type', 'list', 'Encap')).trim(), 'geneve')
  })
})
