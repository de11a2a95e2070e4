import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {cacheFits, loadReplicaCache, openReplica, ReplicaCacheError, saveReplicaCache} from '../../src/core/idl/cache.js'
import {DigestedReplica} from '../../src/core/idl/digest-replica.js'
import {DatabaseSchema} from '../../src/core/ovsdb/index.js'
import {testSchemaJSON} from '../server/harness.js'

const schema = DatabaseSchema.fromJSON(testSchemaJSON)
const shape = {db: 'Test', schema, tables: [{name: 'Switch', columns: ['name', 'tags'], where: [['name', '!=', 'x']]}]}

function sample(): DigestedReplica {
  const replica = new DigestedReplica(shape)
  replica.setSalt(new Uint8Array(16).fill(9))
  const rows: Record<string, Record<string, unknown>> = {}
  for (let i = 0; i < 50; i++) rows[`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`] = {initial: {name: `sw${i}`, tags: ['set', [i]]}}
  replica.apply({Switch: rows})
  replica.lastTxnId = '11111111-2222-4333-8444-555555555555'
  return replica
}

describe('the replica cache file', () => {
  let dir: string
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-cache-'))))
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  it('reads back the rows, last transaction, salt and digests it saved', async () => {
    const file = path.join(dir, 'r.cache')
    const saved = sample()
    await saveReplicaCache(file, saved)
    const loaded = await loadReplicaCache(file)
    assert.equal(loaded.size, 50)
    assert.equal(loaded.lastTxnId, saved.lastTxnId)
    assert.equal(loaded.saltId, saved.saltId)
    assert.deepEqual(loaded.index.summary(), saved.index.summary())
    assert.ok(cacheFits(loaded, shape))
    assert.equal((fs.statSync(file).mode & 0o777).toString(8), '600')
  })

  it('refuses a truncated, damaged or foreign file with an error naming it and the reason', async () => {
    const file = path.join(dir, 'r.cache')
    await saveReplicaCache(file, sample())
    const text = fs.readFileSync(file, 'utf8')
    const cases: [string, string, RegExp][] = [
      ['truncated', text.slice(0, text.length - 40), /checksum does not match: the file is truncated or damaged/],
      ['damaged', text.replace('"sw7"', '"sw8"'), /checksum does not match/],
      ['foreign', '{"format":"something-else"}\n{}\n', /format "something-else" is not "ovnctl-replica-cache"/],
      ['newer', text.replace('"version":1', '"version":2'), /version 2 read, only 1 known/],
      ['not json', 'hello\n', /the first line is not a cache header/],
    ]
    for (const [label, content, reason] of cases) {
      fs.writeFileSync(file, content)
      await assert.rejects(loadReplicaCache(file), (err: Error) => err instanceof ReplicaCacheError && reason.test(err.message) && err.message.includes(file), label)
    }
  })

  it('starts empty, with the reason, when the cache holds another shape, and silently when there is none', async () => {
    const file = path.join(dir, 'r.cache')
    await saveReplicaCache(file, sample())
    const other = await openReplica(file, {...shape, tables: [{name: 'Switch', columns: ['name'], where: null}]})
    assert.equal(other.replica.size, 0)
    assert.match(other.reason!, /holds another database, schema version, table set or condition/)
    const same = await openReplica(file, shape)
    assert.equal(same.replica.size, 50)
    assert.equal(same.reason, undefined)
    const none = await openReplica(path.join(dir, 'absent'), shape)
    assert.deepEqual([none.replica.size, none.reason], [0, undefined])
  })
})
