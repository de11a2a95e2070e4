/**
 * db-serve as a daemon (ovsdb-server(1) "Daemon Options") and db-create (as ovsdb-tool create), run as an
 * operator runs them: --detach returns once serving, the pidfile holds the PID, SIGTERM stops it and removes
 * the pidfile, --log-file takes the vlog lines, a database file is served by one process at a time.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {isProcessAlive, readPidfile} from '../../src/core/cli/pidfile.js'
import {assertBuilt, runOvnctl, show} from '../cli/spawn.js'
import {ok, tempDir} from '../interop/lib.js'
import {killIfRunning, startOvnctl, until, type Running} from './helpers.js'

/** One log line in the layout of OVS vlog: time|sequence|module|level|message. */
const vlogLine = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\|\d{5}\|[a-z_]+\|(EMER|ERR|WARN|INFO|DBG)\|.+$/

function assertVlog(text: string, what: string): void {
  const lines = text.split('\n')
  assert.equal(lines.pop(), '', `${what}: ends with a line break:\n${text}`)
  assert.ok(lines.length > 0, `${what}: has log lines`)
  for (const line of lines) assert.match(line, vlogLine, `${what}: every line in vlog layout:\n${text}`)
}

describe('db-serve as a daemon, and db-create', function () {
  this.timeout(60_000)
  before(() => assertBuilt())
  let tmp: ReturnType<typeof tempDir>
  let dir: string
  let file: string
  const pids: number[] = []
  let foreground: Running | undefined
  beforeEach(async () => {
    tmp = tempDir()
    dir = tmp.dir
    file = path.join(dir, 'nb.db')
    await ok('ovnctl', ['db-create', file, 'nb'])
  })
  afterEach(() => {
    // Stop what this test started, by PID, if an assertion left it running.
    for (const pid of pids.splice(0)) if (isProcessAlive(pid)) process.kill(pid, 'SIGKILL')
    killIfRunning(foreground)
    tmp.cleanup()
  })

  const serveArgs = (name: string, ...more: string[]) => [
    'db-serve', `--remote=punix:${path.join(dir, `${name}.sock`)}`, `--unixctl=${path.join(dir, `${name}.ctl`)}`, ...more, file,
  ]

  it('--detach --pidfile returns 0 once serving; the pidfile holds the PID; SIGTERM stops it and removes the pidfile', async () => {
    const pidfile = path.join(dir, 'nb.pid')
    const log = path.join(dir, 'nb.log')
    const r = await runOvnctl(serveArgs('nb', '--detach', `--pidfile=${pidfile}`, `--log-file=${log}`))
    assert.equal(r.code, 0, show(r))
    assert.equal(r.stdout, '', show(r))
    assert.equal(r.stderr, '', `quiet: the log goes to --log-file\n${show(r)}`)
    const pid = readPidfile(pidfile)
    assert.ok(pid !== null && isProcessAlive(pid), `the pidfile names a live process: ${fs.readFileSync(pidfile, 'utf8')}`)
    pids.push(pid)
    assert.match(fs.readFileSync(pidfile, 'utf8'), /^\d+\n$/)
    // Serving already when --detach returned: a client gets its answer at once.
    const dbs = await ok('ovnctl', ['db-transact', `--db=unix:${path.join(dir, 'nb.sock')}`, '["OVN_Northbound"]'])
    assert.equal(dbs, '[]\n')
    process.kill(pid, 'SIGTERM')
    assert.ok(await until(() => !isProcessAlive(pid)), `process ${pid} stopped on SIGTERM`)
    assert.ok(!fs.existsSync(pidfile), 'pidfile removed')
    assertVlog(fs.readFileSync(log, 'utf8'), '--log-file')
    assert.match(fs.readFileSync(log, 'utf8'), /\|db_serve\|INFO\|serving 1 database\(s\) on punix:/)
  })

  it('in the foreground logs vlog lines on stderr only, or with --log-file nothing at all; SIGTERM exits 0', async () => {
    for (const logFile of [undefined, path.join(dir, 'fg.log')]) {
      const name = logFile ? 'fg-file' : 'fg'
      foreground = startOvnctl(serveArgs(name, ...(logFile ? [`--log-file=${logFile}`] : [])))
      const ready = () => fs.existsSync(path.join(dir, `${name}.ctl`))
      assert.ok(await until(() => ready() || foreground!.done()), foreground.stderr())
      foreground.child.kill('SIGTERM')
      const r = await foreground.exited
      assert.equal(r.code, 0, show(r))
      assert.equal(r.stdout, '', `a daemon writes nothing on stdout\n${show(r)}`)
      if (logFile) {
        assert.equal(r.stderr, '', `stderr stays quiet with --log-file\n${show(r)}`)
        assertVlog(fs.readFileSync(logFile, 'utf8'), '--log-file')
      } else {
        assertVlog(r.stderr, 'stderr')
      }
    }
  })

  it('refuses to serve a database file another db-serve holds: exit 1, naming the file', async () => {
    foreground = startOvnctl(serveArgs('first'))
    assert.ok(await until(() => fs.existsSync(path.join(dir, 'first.ctl')) || foreground!.done()), foreground.stderr())
    const second = await runOvnctl(serveArgs('second'))
    assert.equal(second.code, 1, show(second))
    assert.equal(second.stdout, '')
    assert.ok(second.stderr.startsWith(`ovnctl: Cannot serve "${file}": `), show(second))
    assert.match(second.stderr, /locked by ovnctl process \d+/, show(second))
    assert.ok(!fs.existsSync(path.join(dir, 'second.sock')), 'the second server never listened')
    const detached = await runOvnctl(serveArgs('third', '--detach'))
    assert.equal(detached.code, 1, `--detach passes the child's failure on\n${show(detached)}`)
    assert.ok(detached.stderr.includes(`Cannot serve "${file}"`), show(detached))
    assert.ok(!foreground.done(), 'the first server still serves')
  })

  it('db-serve without a database file is a usage error (exit 2)', async () => {
    const r = await runOvnctl(['db-serve', `--remote=punix:${path.join(dir, 'none.sock')}`])
    assert.equal(r.code, 2, show(r))
    assert.equal(r.stdout, '')
  })

  it('db-create writes its note on stderr and nothing on stdout; an existing file is exit 1 suggesting --force', async () => {
    const other = path.join(dir, 'sb.db')
    const r = await runOvnctl(['db-create', other, 'sb'])
    assert.equal(r.code, 0, show(r))
    assert.equal(r.stdout, '', 'stdout carries data only, and there is none')
    assert.match(r.stderr, /^Created ".*sb\.db": database "OVN_Southbound" version [\d.]+ from ".*ovn-sb\.ovsschema"\n$/, show(r))
    const again = await runOvnctl(['db-create', other, 'sb'])
    assert.equal(again.code, 1, show(again))
    assert.equal(again.stdout, '')
    assert.equal(again.stderr, `ovnctl: Cannot create "${other}": the file exists (use --force to replace it)\n`)
    const unconfirmed = await runOvnctl(['db-create', other, 'nb', '--force'])
    assert.equal(unconfirmed.code, 2, `--force without a terminal needs --yes\n${show(unconfirmed)}`)
    assert.match(unconfirmed.stderr, /pass --yes to confirm/, show(unconfirmed))
    const forced = await runOvnctl(['db-create', other, 'nb', '--force', '--yes'])
    assert.equal(forced.code, 0, show(forced))
    assert.match(forced.stderr, /database "OVN_Northbound"/, show(forced))
  })

  it('db-create with an unknown schema name is a usage error (exit 2) and creates nothing', async () => {
    const target = path.join(dir, 'x.db')
    const r = await runOvnctl(['db-create', target, 'no-such-schema'])
    assert.equal(r.code, 2, show(r))
    assert.equal(r.stdout, '')
    assert.match(r.stderr, /^ovnctl: Cannot find schema "no-such-schema": /, show(r))
    assert.ok(!fs.existsSync(target), 'no file left behind')
  })
})
