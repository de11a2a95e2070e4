import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {binRun, run, runInPty, show} from '../cli/spawn.js'
import {FileLog} from '../../src/core/storage/index.js'

describe('db-serve shows progress while loading, on a terminal only', function () {
  this.timeout(30000)
  let dir: string
  let file: string

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-progress-'))
    file = path.join(dir, 'big.db')
    const schema = JSON.parse(fs.readFileSync('/usr/share/ovn/ovn-nb.ovsschema', 'utf8'))
    const log = await FileLog.create(file, schema)
    for (let i = 0; i < 2000; i++) {
      const uuid = `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`
      await log.append({Address_Set: {[uuid]: {name: `set${i}`}}, _date: 0}, {sync: false})
    }
    await log.close()
  })
  after(() => fs.rmSync(dir, {recursive: true, force: true}))

  const serveFor = (seconds: number) => ['2', process.execPath, binRun, 'db-serve', `--remote=punix:${path.join(dir, `s${seconds}.sock`)}`, `--unixctl=${path.join(dir, `c${seconds}.ctl`)}`, file]

  it('draws "Loading big.db" with the record count on a terminal', async () => {
    const r = await runInPty('timeout', serveFor(1))
    assert.match(r.stdout, /Loading big\.db.*2000/, show(r))
  })

  it('draws nothing when stderr is a pipe', async () => {
    const r = await run('timeout', serveFor(2))
    assert.doesNotMatch(r.stderr, /Loading/, show(r))
    assert.match(r.stderr, /2000 records replayed/, show(r))
  })
})
