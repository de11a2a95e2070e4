/**
 * db-monitor as a pipeline stage: ndjson lines arrive as changes commit (not when the monitor ends), --count
 * ends it, json is one array at the end, SIGTERM ends it with its output complete, SIGINT exits 130, and losing
 * the server is a failure.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import {assertBuilt, show} from '../cli/spawn.js'
import {ok, startDbServe} from '../interop/lib.js'
import {insertSwitch, killIfRunning, parseNdjson, startOvnctl, until, useSeededServer, type Running} from './helpers.js'

describe('db-monitor: streaming and ending', function () {
  this.timeout(60_000)
  before(() => assertBuilt())
  const server = useSeededServer()
  const args = (...more: string[]) => ['db-monitor', server.db, 'OVN_Northbound', 'Logical_Switch', 'name', ...more]
  let monitor: Running | undefined
  afterEach(() => killIfRunning(monitor))

  /** Waits until the server behind `ctl` holds a monitor (from "ovs-appctl memory/show"), so changes reach it. */
  async function waitForMonitor(m: Running, ctl = server.server.ctl): Promise<void> {
    const registered = async () => /monitors:[1-9]/.test(await ok('ovs-appctl', ['-t', ctl, 'memory/show']))
    for (let i = 0; i < 200 && !m.done(); i++) {
      if (await registered()) return
      await new Promise((r) => setTimeout(r, 25))
    }
    assert.fail(`the monitor never registered with the server:\n${m.stdout()}${m.stderr()}`)
  }

  /** How many switches the database holds now (tests add some). */
  async function switchCount(): Promise<number> {
    return parseNdjson(await ok('ovnctl', ['db-dump', server.db, 'OVN_Northbound', 'Logical_Switch', '_uuid', '-f', 'ndjson'])).length
  }

  it('--format ndjson prints each change as it commits, one object per line, and --count ends it with exit 0', async () => {
    const initial = await switchCount()
    monitor = startOvnctl(args('--format', 'ndjson', '--count', String(initial + 2)))
    assert.ok(await until(() => monitor!.stdout().split('\n').length === initial + 1), `the initial rows:\n${monitor.stdout()}${monitor.stderr()}`)
    await insertSwitch(server.db, 'stream-1')
    assert.ok(await until(() => monitor!.stdout().includes('"stream-1"')), `the insert printed while running:\n${monitor.stdout()}`)
    assert.ok(!monitor.done(), 'the line arrived while the monitor still runs (streamed, not printed at the end)')
    await insertSwitch(server.db, 'stream-2')
    const r = await monitor.exited
    assert.equal(r.code, 0, `--count ends the monitor after the second insert\n${show(r)}`)
    assert.equal(r.stderr, '', show(r))
    const all = parseNdjson(r.stdout)
    assert.deepEqual(all.map((l) => l.action), [...Array(initial).fill('initial'), 'insert', 'insert'], r.stdout)
    assert.deepEqual(all.slice(initial).map((l) => l.name), ['stream-1', 'stream-2'], r.stdout)
    for (const l of all) assert.deepEqual(Object.keys(l), ['table', 'uuid', 'action', 'name'], JSON.stringify(l))
  })

  it('--count reached by the initial rows alone ends the monitor at once', async () => {
    monitor = startOvnctl(args('--format', 'ndjson', '--count', '1'))
    const r = await monitor.exited
    assert.equal(r.code, 0, show(r))
    assert.equal(parseNdjson(r.stdout).length, 1, show(r))
  })

  it('--format json prints nothing while running, then one array when --count is reached', async () => {
    const initial = await switchCount()
    monitor = startOvnctl(args('--format', 'json', '--count', String(initial + 1)))
    await waitForMonitor(monitor)
    assert.equal(monitor.stdout(), '', 'nothing before the end')
    await insertSwitch(server.db, 'json-1')
    const r = await monitor.exited
    assert.equal(r.code, 0, show(r))
    assert.equal(r.stderr, '', show(r))
    assert.equal(r.stdout.split('\n').length, 2, `one compact line:\n${r.stdout}`)
    const records = JSON.parse(r.stdout) as Array<{action: string; name: string}>
    assert.equal(records.length, initial + 1, r.stdout)
    assert.deepEqual(records.at(-1), {...records.at(-1), action: 'insert', name: 'json-1'}, r.stdout)
  })

  it('SIGTERM ends it cleanly: exit 0, nothing on stderr, the output complete (ndjson lines, the json array closed)', async () => {
    const initial = await switchCount()
    monitor = startOvnctl(args('--format', 'ndjson'))
    assert.ok(await until(() => monitor!.stdout().split('\n').length === initial + 1), monitor.stdout())
    monitor.child.kill('SIGTERM')
    const nd = await monitor.exited
    assert.equal(nd.code, 0, show(nd))
    assert.equal(nd.stderr, '', show(nd))
    assert.equal(parseNdjson(nd.stdout).length, initial, show(nd))
    monitor = startOvnctl(args('--format', 'json'))
    await waitForMonitor(monitor)
    monitor.child.kill('SIGTERM')
    const json = await monitor.exited
    assert.equal(json.code, 0, show(json))
    assert.equal(json.stderr, '', show(json))
    assert.ok(Array.isArray(JSON.parse(json.stdout)), `one JSON array:\n${show(json)}`)
  })

  it('SIGINT (Ctrl-C) exits 130 with the output printed so far intact, with and without --json', async () => {
    const initial = await switchCount()
    monitor = startOvnctl(args('--format', 'ndjson'))
    assert.ok(await until(() => monitor!.stdout().split('\n').length === initial + 1), monitor.stdout())
    monitor.child.kill('SIGINT')
    const nd = await monitor.exited
    assert.equal(nd.code, 130, show(nd))
    assert.equal(parseNdjson(nd.stdout).length, initial, show(nd))
    monitor = startOvnctl(args('--json'))
    await waitForMonitor(monitor)
    monitor.child.kill('SIGINT')
    const json = await monitor.exited
    assert.equal(json.code, 130, show(json))
    assert.ok(Array.isArray(JSON.parse(json.stdout)), `one JSON array:\n${show(json)}`)
  })

  it('exits 1 and says so on stderr when the server goes away, stdout keeping only data', async () => {
    const file = path.join(server.dir, 'gone.db')
    await ok('ovnctl', ['db-create', file, 'nb'])
    const gone = await startDbServe(server.dir, [file], [], 'gone')
    try {
      monitor = startOvnctl(['db-monitor', `--db=unix:${gone.sock}`, 'OVN_Northbound', 'Logical_Switch', '--format=ndjson'])
      await waitForMonitor(monitor, gone.ctl)
      await gone.stop('SIGTERM')
      const r = await monitor.exited
      assert.equal(r.code, 1, show(r))
      assert.equal(r.stdout, '', 'an empty table: nothing on stdout')
      assert.match(r.stderr, /^ovnctl: Monitor of "OVN_Northbound" ended: .+\n$/, show(r))
    } finally {
      await gone.stop('SIGKILL')
    }
  })
})
