import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import {StorageError} from '../../src/core/storage/errors.js'
import {FileLog, sha1Hex} from '../../src/core/storage/file-log.js'
import {encodeRecord} from '../../src/core/storage/log-format.js'
import {lockPathFor} from '../../src/core/storage/pid-lock.js'
import {repoPath, runNodeScript} from './child.js'

const schema = {name: 'Test', version: '1.0.0', tables: {T: {columns: {n: {type: 'integer'}}}}}

function txn(i: number): object {
  return {_date: 1700000000000 + i, T: {[`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`]: {n: i}}}
}

function rejectsWith(code: string): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof StorageError, `expected a StorageError "${code}", got ${String(err)}`)
    assert.equal(err.code, code, `expected code "${code}", got "${err.code}": ${err.message}`)
    return true
  }
}

describe('standalone database file', () => {
  let dir: string
  let file: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-'))
    file = path.join(dir, 'test.db')
  })
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  it('reads back the schema and every appended record after reopening', async () => {
    const log = await FileLog.create(file, schema)
    for (let i = 0; i < 5; i++) await log.append(txn(i))
    assert.deepEqual(log.stats().records, 5)
    await log.close()
    const opened = await FileLog.open(file)
    assert.deepEqual(opened.schema, schema)
    assert.deepEqual(opened.records, [0, 1, 2, 3, 4].map(txn))
    assert.equal(opened.dropped, null)
    assert.equal(opened.log.stats().bytes, fs.statSync(file).size)
    await opened.log.close()
  })

  it('refuses to create over an existing file and leaves it untouched', async () => {
    fs.writeFileSync(file, 'precious')
    await assert.rejects(FileLog.create(file, schema), rejectsWith('exists'))
    assert.equal(fs.readFileSync(file, 'utf8'), 'precious')
    assert.ok(!fs.existsSync(lockPathFor(file)), 'the lock must be released after a failed create')
  })

  it('refuses a second writer while the first is open, and allows it after close', async () => {
    const log = await FileLog.create(file, schema)
    await assert.rejects(FileLog.open(file), rejectsWith('locked'))
    const reader = await FileLog.open(file, {readOnly: true})
    await reader.log.close()
    await log.close()
    const again = await FileLog.open(file)
    await again.log.close()
  })

  it('takes over a lock left by a process that is no longer running', async () => {
    const log = await FileLog.create(file, schema)
    await log.close()
    const dead = await runNodeScript('process.stdout.write(String(process.pid))', [])
    fs.writeFileSync(lockPathFor(file), `${dead.stdout}\n`)
    const opened = await FileLog.open(file)
    assert.equal(fs.readFileSync(lockPathFor(file), 'utf8'), `${process.pid}\n`)
    await opened.log.close()
    assert.ok(!fs.existsSync(lockPathFor(file)))
  })

  it('drops a torn tail on open, truncates the file to the valid prefix, and says why', async () => {
    const log = await FileLog.create(file, schema)
    await log.append(txn(0))
    const goodSize = log.stats().bytes
    await log.close()
    const whole = encodeRecord(txn(1), sha1Hex)
    fs.appendFileSync(file, whole.subarray(0, whole.length - 30))
    const opened = await FileLog.open(file)
    assert.deepEqual(opened.records, [txn(0)])
    assert.deepEqual(opened.dropped && [opened.dropped.offset, opened.dropped.bytes], [goodSize, whole.length - 30])
    assert.match(opened.dropped!.reason, /^length beyond EOF: /)
    assert.equal(fs.statSync(file).size, goodSize)
    await opened.log.append(txn(2))
    await opened.log.close()
    assert.deepEqual((await reopenRecords(file)), [txn(0), txn(2)])
  })

  it('reports a corrupt tail but leaves the file alone when opened read-only', async () => {
    const log = await FileLog.create(file, schema)
    await log.close()
    fs.appendFileSync(file, 'garbage')
    const size = fs.statSync(file).size
    const opened = await FileLog.open(file, {readOnly: true})
    assert.match(opened.dropped?.reason ?? '', /^bad header/)
    assert.equal(fs.statSync(file).size, size)
    await assert.rejects(opened.log.append(txn(0)), rejectsWith('closed'))
    await opened.log.close()
  })

  it('refuses a file without a valid schema record instead of truncating it to nothing', async () => {
    for (const content of ['', 'hello world\n', 'OVSDB JSON 10 0000000000000000000000000000000000000000\n{}\n']) {
      fs.writeFileSync(file, content)
      await assert.rejects(FileLog.open(file), rejectsWith('corrupt'), `content ${JSON.stringify(content)}`)
      assert.equal(fs.readFileSync(file, 'utf8'), content)
    }
  })

  it('refuses a clustered database file with a clear error', async () => {
    fs.writeFileSync(file, encodeRecord({server_id: 'x', name: 'Test'}, sha1Hex, {magic: 'CLUSTER'}))
    await assert.rejects(FileLog.open(file), (err: Error) => rejectsWith('clustered')(err) && /clustered database files are not supported/.test(err.message))
  })

  it('writes appends issued together with one fdatasync, in the order issued', async () => {
    const log = await FileLog.create(file, schema)
    await Promise.all(Array.from({length: 100}, (_, i) => log.append(txn(i))))
    assert.ok(log.stats().appendSyncs <= 2, `100 appends in one tick took ${log.stats().appendSyncs} fdatasyncs`)
    await log.close()
    assert.deepEqual(await reopenRecords(file), Array.from({length: 100}, (_, i) => txn(i)))
  })

  it('skips fdatasync for appends that do not ask for it, unless one in the same batch does', async () => {
    const log = await FileLog.create(file, schema)
    for (let i = 0; i < 10; i++) await log.append(txn(i), {sync: false})
    assert.equal(log.stats().appendSyncs, 0)
    await Promise.all([log.append(txn(10), {sync: false}), log.append(txn(11))])
    assert.equal(log.stats().appendSyncs, 1)
    await log.close()
    assert.deepEqual(await reopenRecords(file), Array.from({length: 12}, (_, i) => txn(i)))
  })

  it('splits a group commit at batchBytesMax', async () => {
    const log = await FileLog.create(file, schema, {limits: {batchBytesMax: 1}})
    await Promise.all(Array.from({length: 5}, (_, i) => log.append(txn(i))))
    assert.equal(log.stats().appendSyncs, 5)
    await log.close()
  })

  it('refuses an append beyond pendingBytesMax or recordBytesMax, keeping the others', async () => {
    const one = encodeRecord(txn(0), sha1Hex).length
    const log = await FileLog.create(file, schema, {limits: {pendingBytesMax: one * 2}})
    const results = await Promise.allSettled([0, 1, 2].map((i) => log.append(txn(i))))
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected'])
    assert.match(String((results[2] as PromiseRejectedResult).reason), /pendingBytesMax=/)
    await log.close()
    const small = await FileLog.open(file, {limits: {recordBytesMax: 20}}).catch((err) => err)
    assert.ok(small instanceof StorageError && small.code === 'limit', `expected a limit error, got ${small}`)
    const opened = await FileLog.open(file, {limits: {recordBytesMax: 100}})
    await assert.rejects(opened.log.append({big: 'x'.repeat(100)}), (err: Error) => rejectsWith('limit')(err) && /recordBytesMax=100/.test(err.message))
    await opened.log.close()
  })

  it('compacts to the schema and one snapshot, keeping appends issued during compaction', async () => {
    let now = 1000
    const log = await FileLog.create(file, schema, {nowMs: () => now})
    for (let i = 0; i < 3; i++) await log.append(txn(i))
    now = 5000
    const snapshot = {_date: 1, T: {a: {n: 0}, b: {n: 1}, c: {n: 2}}, _comment: 'compacted'}
    await Promise.all([log.compact(schema, snapshot), log.append(txn(3)), log.append(txn(4))])
    const stats = log.stats()
    assert.equal(stats.records, 3)
    assert.equal(stats.recordsAtLastCompaction, 1)
    assert.equal(stats.lastCompactionMs, 5000)
    assert.equal(stats.bytes, fs.statSync(file).size)
    assert.equal(stats.bytesAtLastCompaction, encodeRecord(schema, sha1Hex).length + encodeRecord(snapshot, sha1Hex).length)
    await log.close()
    assert.deepEqual(await reopenRecords(file), [snapshot, txn(3), txn(4)])
    assert.deepEqual(fs.readdirSync(dir), ['test.db'], 'no temp or lock file is left behind')
  })

  it('removes the temp file of a compaction cut short by a crash when it opens the database', async () => {
    const log = await FileLog.create(file, schema)
    await log.append(txn(0))
    await log.close()
    fs.writeFileSync(path.join(dir, '.test.db.~ovnctl-compact~'), 'half a snapshot')
    assert.deepEqual(await reopenRecords(file), [txn(0)])
    const opened = await FileLog.open(file)
    await opened.log.close()
    assert.deepEqual(fs.readdirSync(dir), ['test.db'])
  })

  it('rejects appends after close', async () => {
    const log = await FileLog.create(file, schema)
    await log.close()
    await assert.rejects(log.append(txn(0)), rejectsWith('closed'))
  })

  it('rejects an append that fills the disk and leaves the file at a record boundary', async function () {
    // RLIMIT_FSIZE makes writes past 64 KiB fail with EFBIG, as a full disk fails with ENOSPC (Node ignores SIGXFSZ).
    const script = `
      const {FileLog} = await import(${JSON.stringify(repoPath('src/core/storage/file-log.ts'))})
      const log = await FileLog.create(process.argv[1], {name: 'Test', version: '1.0.0', tables: {}})
      let acked = 0, error = null
      for (let i = 0; i < 1000 && error === null; i++) {
        try { await log.append({_date: i, pad: 'x'.repeat(300)}); acked++ } catch (err) { error = err }
      }
      const after = await log.append({_date: -1}).then(() => 'ok', (err) => err.code)
      await log.close()
      process.stdout.write(JSON.stringify({acked, code: error && error.code, message: error && error.message, after}))
    `
    const out = await runNodeScript(script, [file], {fileSizeKiB: 64})
    const result = JSON.parse(out.stdout)
    assert.equal(result.code, 'io', `child reported ${out.stdout}`)
    assert.match(result.message, /EFBIG/)
    const opened = await FileLog.open(file)
    assert.equal(opened.dropped, null, `dropped ${JSON.stringify(opened.dropped)}`)
    assert.equal(opened.records.length, result.acked + (result.after === 'ok' ? 1 : 0))
    await opened.log.close()
  })

  it('reads back random sequences of appends and compactions in order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.nat(1000), fc.constant(-1)), {maxLength: 30}), async (ops) => {
        fs.rmSync(file, {force: true})
        const log = await FileLog.create(file, schema)
        let expected: object[] = []
        const pending = ops.map((op) => {
          if (op >= 0) {
            expected.push(txn(op))
            return log.append(txn(op))
          }
          const snapshot = {_date: 0, count: expected.length}
          expected = [snapshot]
          return log.compact(schema, snapshot)
        })
        await Promise.all(pending)
        await log.close()
        assert.deepEqual(await reopenRecords(file), expected)
      }),
      {numRuns: 30},
    )
  })
})

async function reopenRecords(file: string): Promise<object[]> {
  const {log, records, dropped} = await FileLog.open(file, {readOnly: true})
  await log.close()
  assert.equal(dropped, null, `unexpected dropped tail ${JSON.stringify(dropped)}`)
  return records
}
