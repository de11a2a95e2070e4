import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {HostedDb} from '../../src/core/server/hosted-db.js'
import {createDatabaseFile, FileCommitLog, openDatabaseFile} from '../../src/core/server/standalone.js'
import {newUuid} from '../../src/core/server/uuid.js'
import {testSchemaJSON} from './harness.js'

describe('automatic compaction of a standalone database', () => {
  let dir: string
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-compact-'))))
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  function commit(hosted: HostedDb, ops: object[]): Promise<void> {
    return new Promise((resolve, reject) =>
      hosted.transact(ops, {newUuid}, {}, (o) => (o.kind === 'committed' ? resolve() : reject(new Error(JSON.stringify(o))))),
    )
  }

  it('rewrites the file as one snapshot once it grows past the policy, keeping every row', async () => {
    const file = path.join(dir, 'db.db')
    await createDatabaseFile(file, testSchemaJSON)
    const opened = await openDatabaseFile(file)
    let hosted: HostedDb | null = null
    const log = new FileCommitLog(opened.file, () => hosted!.db, () => {})
    log.policy = {bytesMin: 20_000, growthFactor: 2, commitsMin: 50, intervalMinMs: 0, intervalMaxMs: 24 * 3600_000}
    hosted = new HostedDb('Test', opened.db, log, {historyTxnsMax: 10, historyBytesMax: 1 << 20})
    for (let i = 0; i < 300; i++) {
      await commit(hosted, [{op: 'insert', table: 'Switch', row: {name: `s${i}`}}])
      if (i % 3 === 0) await commit(hosted, [{op: 'delete', table: 'Switch', where: [['name', '==', `s${i}`]]}])
    }
    await hosted.settled()
    await new Promise((r) => setTimeout(r, 200))
    const stats = opened.file.stats()
    assert.ok(stats.lastCompactionMs !== undefined, 'the database never compacted itself')
    assert.ok(stats.records < 200, `expected a compacted file, it holds ${stats.records} records`)
    await hosted.close()
    const reopened = await openDatabaseFile(file)
    const names = [...reopened.db.table('Switch').rows.values()].map((r) => r.columns.name.keys[0]).sort()
    assert.equal(names.length, 200)
    assert.ok(!names.includes('s0') && names.includes('s1'))
    await reopened.file.close()
  })
})
