import assert from 'node:assert/strict'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {spawn} from 'node:child_process'
import {isProcessAlive, readPidfile} from '../../src/core/cli/pidfile.js'
import {childEnv, fixturePath, runFixture, show} from './spawn.js'

/** Polls until `check` holds, for at most `limitMs` (waits for another process, not a timed assertion). */
async function until(check: () => boolean, limitMs = 10_000): Promise<boolean> {
  for (let waited = 0; waited < limitMs; waited += 50) {
    if (check()) return true
    await sleep(50)
  }
  return check()
}

function hello(socket: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = ''
    net.connect(socket).on('data', (d) => (data += d)).on('end', () => resolve(data)).on('error', reject)
  })
}

describe('daemons (fixture built from the real helpers)', function () {
  this.timeout(30_000)
  let dir: string
  const started: number[] = []
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-'))))
  afterEach(() => {
    // Stop any daemon this test started (by its pid) that is still alive.
    for (const pid of started.splice(0)) if (isProcessAlive(pid)) process.kill(pid, 'SIGKILL')
    fs.rmSync(dir, {recursive: true, force: true})
  })

  it('--detach returns 0 once the daemon listens; SIGTERM stops it cleanly and removes the pidfile', async () => {
    const socket = path.join(dir, 'd.sock')
    const pidfile = path.join(dir, 'd.pid')
    const logFile = path.join(dir, 'd.log')
    const r = await runFixture('daemon', ['--socket', socket, '--pidfile', pidfile, '--log-file', logFile, '--detach'])
    assert.equal(r.code, 0, show(r))
    const pid = readPidfile(pidfile)
    assert.ok(pid !== null && isProcessAlive(pid), `pidfile names a live process: ${pid}`)
    started.push(pid)
    assert.equal(await hello(socket), 'hello\n', 'the daemon serves once the parent has returned')
    process.kill(pid, 'SIGTERM')
    assert.ok(await until(() => !fs.existsSync(pidfile)), 'pidfile removed on SIGTERM')
    assert.ok(await until(() => !isProcessAlive(pid)), 'process gone')
    const log = fs.readFileSync(logFile, 'utf8')
    assert.match(log, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\|00001\|fixture\|INFO\|listening on ".*"\n/, log)
    assert.match(log, /\|00002\|fixture\|INFO\|stopping\n$/, log)
    assert.ok(!log.includes('DBG'), 'no debug lines without --verbose')
  })

  it('--detach passes the daemon\'s failure and its message on', async () => {
    const socket = path.join(dir, 'd.sock')
    const r = await runFixture('daemon', ['--socket', socket, '--detach', '--fail'])
    assert.equal(r.code, 1, show(r))
    assert.equal(r.stdout, '')
    assert.match(r.stderr, /Cannot listen on ".*": refused by --fail/, show(r))
  })

  it('refuses to start when the pidfile names a live process', async () => {
    const pidfile = path.join(dir, 'd.pid')
    fs.writeFileSync(pidfile, `${process.pid}\n`)
    const r = await runFixture('daemon', ['--socket', path.join(dir, 'd.sock'), '--pidfile', pidfile, '--detach'])
    assert.equal(r.code, 1, show(r))
    assert.match(r.stderr, new RegExp(`Cannot use pidfile ".*": process ${process.pid} is running`), show(r))
    assert.equal(fs.readFileSync(pidfile, 'utf8'), `${process.pid}\n`, 'pidfile untouched')
  })

  it('in the foreground logs to stderr and stops on SIGINT with exit 130, pidfile removed', async () => {
    const socket = path.join(dir, 'd.sock')
    const pidfile = path.join(dir, 'd.pid')
    const child = spawn(process.execPath, ['--import', 'tsx', fixturePath('daemon'), '--socket', socket, '--pidfile', pidfile, '-v'], {env: childEnv()})
    started.push(child.pid!)
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    let stdout = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    assert.ok(await until(() => fs.existsSync(pidfile)), `pidfile written once listening:\n${stderr}`)
    assert.equal(readPidfile(pidfile), child.pid)
    child.kill('SIGINT')
    assert.equal(await exited, 130, stderr)
    assert.ok(!fs.existsSync(pidfile), 'pidfile removed')
    assert.equal(stdout, '', 'a daemon writes nothing on stdout')
    assert.match(stderr, /\|00001\|fixture\|INFO\|listening on ".*"\n.*\|00002\|fixture\|DBG\|debug detail\n.*\|00003\|fixture\|INFO\|stopping\n$/, stderr)
  })
})
