/**
 * db-monitor --cache: the first run prints every row as "initial" and saves them; the next run prints only
 * what changed since; a damaged cache is replaced with a warning, never trusted.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {assertBuilt, runOvnctl, show} from '../cli/spawn.js'
import {insertSwitch, parseNdjson, switchNames, useSeededServer} from './helpers.js'

describe('db-monitor --cache', function () {
  this.timeout(60_000)
  before(() => assertBuilt())
  const server = useSeededServer()
  const monitor = (cache: string, ...more: string[]) =>
    runOvnctl(['db-monitor', server.db, 'OVN_Northbound', 'Logical_Switch', 'name', `--cache=${cache}`, '--format=ndjson', '--duration=1s', ...more])

  it('prints every row on the first run, then only the rows that changed since the cache was saved', async () => {
    const cache = path.join(server.dir, 'ls.cache')
    const first = await monitor(cache)
    assert.equal(first.code, 0, show(first))
    const initial = parseNdjson(first.stdout)
    assert.ok(initial.length >= switchNames.length, show(first))
    assert.ok(initial.every((l) => l.action === 'initial'), first.stdout)
    assert.ok(fs.existsSync(cache), 'the cache file was written when the monitor ended')
    await insertSwitch(server.db, 'cached-1')
    const second = await monitor(cache)
    assert.equal(second.code, 0, show(second))
    assert.deepEqual(parseNdjson(second.stdout).map((l) => [l.action, l.name]), [['insert', 'cached-1']], show(second))
    const third = await monitor(cache)
    assert.deepEqual(parseNdjson(third.stdout), [], 'nothing changed since the last run')
  })

  it('replaces a damaged cache with a warning and prints every row', async () => {
    const cache = path.join(server.dir, 'damaged.cache')
    assert.equal((await monitor(cache)).code, 0)
    const text = fs.readFileSync(cache, 'utf8')
    fs.writeFileSync(cache, text.replace('"sw0"', '"sw9"'))
    const r = await monitor(cache)
    assert.equal(r.code, 0, show(r))
    assert.match(r.stderr, /Cannot use replica cache ".*damaged\.cache": its checksum does not match/)
    assert.ok(parseNdjson(r.stdout).every((l) => l.action === 'initial'), r.stdout)
  })
})
