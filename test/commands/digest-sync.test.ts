/**
 * digest-sync as an operator runs it: creating and updating a replica file, checking a file or a second server
 * against a server (exit 3 and the differing rows), the summary in every output format, and usage errors.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {assertBuilt, runOvnctl, runOvnctlInPty, show} from '../cli/spawn.js'
import {type ServerProcess, startDbServe} from '../interop/lib.js'
import {insertSwitch, parseCsv, parseNdjson, useSeededServer} from './helpers.js'

describe('digest-sync', function () {
  this.timeout(60_000)
  before(() => assertBuilt())
  const server = useSeededServer()
  let second: ServerProcess | undefined
  after(async () => second?.stop())
  const sync = (...args: string[]) => runOvnctl(['digest-sync', server.db, ...args, 'OVN_Northbound', 'Logical_Switch'])

  it('creates a replica file, then a check finds a row added since and exits 3 listing it', async () => {
    const cache = path.join(server.dir, 'sync.cache')
    const created = await sync(`--cache=${cache}`, '--json')
    assert.equal(created.code, 0, show(created))
    const summary = JSON.parse(created.stdout).summary
    assert.equal(summary.method, 'snapshot')
    assert.ok(summary.rows >= 2 && summary.bytes > 0 && summary.roundTrips === 1, created.stdout)
    await insertSwitch(server.db, 'after-sync')
    const checked = await sync(`--cache=${cache}`, '--check', '--json')
    assert.equal(checked.code, 3, show(checked))
    const doc = JSON.parse(checked.stdout)
    assert.equal(doc.differences.length, 1, checked.stdout)
    assert.equal(doc.differences[0].difference, 'missing')
    assert.equal(doc.summary.differences, 1)
    assert.match(checked.stderr, /differ in 1 of \d+ rows/)
    const updated = await sync(`--cache=${cache}`, '--json')
    assert.equal(updated.code, 0, show(updated))
    assert.equal(JSON.parse(updated.stdout).summary.differences, 1)
    const clean = await sync(`--cache=${cache}`, '--check', '--json')
    assert.equal(clean.code, 0, show(clean))
    assert.deepEqual(JSON.parse(clean.stdout).differences, [])
  })

  it('compares two servers: equal copies exit 0, a row only one has exits 3', async () => {
    const copy = path.join(server.dir, 'copy.db')
    fs.copyFileSync(path.join(server.dir, 'db.db'), copy)
    second = await startDbServe(server.dir, [copy], [], 'second')
    const equal = await sync(`--with=unix:${second.sock}`, '--check', '--format=ndjson')
    assert.equal(equal.code, 0, show(equal))
    const lines = parseNdjson(equal.stdout)
    assert.equal(lines.length, 1, 'only the summary line')
    assert.equal((lines[0].summary as {differences: number}).differences, 0)
    await insertSwitch(`--db=unix:${second.sock}`, 'only-on-second')
    const differ = await sync(`--with=unix:${second.sock}`, '--check', '--format=ndjson')
    assert.equal(differ.code, 3, show(differ))
    const [row, last] = parseNdjson(differ.stdout)
    assert.equal(row.difference, 'extra', differ.stdout)
    assert.equal((last.summary as {differences: number}).differences, 1)
  })

  it('prints the summary in table and csv output too', async () => {
    const cache = path.join(server.dir, 'formats.cache')
    const table = await sync(`--cache=${cache}`)
    assert.equal(table.code, 0, show(table))
    assert.match(table.stdout, /^source +target +method +rows +differences +bytes +roundTrips +ms\n/)
    const csv = await sync(`--cache=${cache}`, '--format=csv')
    const [heading, values] = parseCsv(csv.stdout)
    assert.deepEqual(heading, ['source', 'target', 'method', 'rows', 'differences', 'bytes', 'roundTrips', 'ms'])
    assert.equal(values[3], String(JSON.parse((await sync(`--cache=${cache}`, '--json')).stdout).summary.rows))
  })

  it('draws its progress on a terminal and not when piped', async () => {
    const cache = path.join(server.dir, 'progress.cache')
    const tty = await runOvnctlInPty(['digest-sync', server.db, `--cache=${cache}`, 'OVN_Northbound', 'Logical_Switch'])
    assert.equal(tty.code, 0, show(tty))
    assert.match(tty.stdout, /Reconciling with unix:.*: 1 round trips/, show(tty))
    const piped = await sync(`--cache=${cache}`)
    assert.doesNotMatch(piped.stderr, /Reconciling/, show(piped))
  })

  it('refuses to run without something to compare, and --with without --check, as usage errors', async () => {
    const none = await sync()
    assert.equal(none.code, 2, show(none))
    assert.match(none.stderr, /--cache FILE, or --with REMOTE and --check/)
    const unchecked = await sync('--with=unix:/nonexistent.sock')
    assert.equal(unchecked.code, 2, show(unchecked))
    const missing = await sync(`--cache=${path.join(server.dir, 'absent.cache')}`, '--check')
    assert.equal(missing.code, 1, show(missing))
    assert.match(missing.stderr, /Cannot check ".*absent\.cache": no such file/)
  })
})
