import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {checkPidfile, readPidfile, removePidfile, writePidfile} from '../../src/core/cli/pidfile.js'
import {argvWithoutDetach} from '../../src/core/cli/daemon.js'

/** A pid that no process holds: one that just exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {encoding: 'utf8'})
  return Number(r.stdout)
}

describe('pidfiles', () => {
  let dir: string
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-'))))
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  it('writes the pid and a newline, and removes only its own', () => {
    const file = path.join(dir, 'd.pid')
    writePidfile(file, process.pid)
    assert.equal(fs.readFileSync(file, 'utf8'), `${process.pid}\n`)
    removePidfile(file, process.pid + 1)
    assert.ok(fs.existsSync(file), 'another pid does not remove it')
    removePidfile(file, process.pid)
    assert.ok(!fs.existsSync(file))
  })

  it('refuses a pidfile held by a live process, naming file and process', () => {
    const file = path.join(dir, 'd.pid')
    fs.writeFileSync(file, `${process.ppid}\n`)
    assert.throws(() => checkPidfile(file), (e: Error & {exitCode?: number}) => e.exitCode === 1 && e.message === `Cannot use pidfile "${file}": process ${process.ppid} is running`)
    assert.throws(() => writePidfile(file), /is running/)
  })

  it('replaces a stale pidfile left by a dead process', () => {
    const file = path.join(dir, 'd.pid')
    fs.writeFileSync(file, `${deadPid()}\n`)
    writePidfile(file)
    assert.equal(readPidfile(file), process.pid)
  })

  it('reads garbage or a missing file as no pid', () => {
    const file = path.join(dir, 'd.pid')
    assert.equal(readPidfile(file), null)
    fs.writeFileSync(file, 'garbage')
    assert.equal(readPidfile(file), null)
  })

  it('gives the detached child the same argv without --detach', () => {
    assert.deepEqual(argvWithoutDetach(['run.js', 'db-serve', '--detach', '--pidfile', 'p', '--', '--detach']), ['run.js', 'db-serve', '--pidfile', 'p', '--', '--detach'])
  })
})
