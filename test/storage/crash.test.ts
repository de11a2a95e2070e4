import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {FileLog} from '../../src/core/storage/file-log.js'
import {repoPath, spawnNodeScript} from './child.js'

/** Appends up to `appendsMax` records, 8 in flight at a time, printing each index once its append resolved. */
const appendLoop = `
  const {FileLog} = await import(${JSON.stringify(repoPath('src/core/storage/file-log.ts'))})
  const {log} = await FileLog.open(process.argv[1])
  const appendsMax = Number(process.argv[2])
  let next = 0
  await Promise.all(Array.from({length: 8}, async () => {
    while (next < appendsMax) {
      const i = next++
      await log.append({_date: i, i})
      process.stdout.write(i + '\\n')
    }
  }))
  await log.close()
`
const appendsMax = 20000

describe('crash durability of the standalone database file', () => {
  let dir: string
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-'))))
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  for (let round = 1; round <= 3; round++) {
    it(`keeps every acknowledged append when the writer is killed with SIGKILL (round ${round})`, async () => {
      const file = path.join(dir, 'crash.db')
      const log = await FileLog.create(file, {name: 'Crash', version: '1.0.0', tables: {}})
      await log.close()
      const killAfter = 20 + Math.floor(Math.random() * 500)
      const child = spawnNodeScript(appendLoop, [file, String(appendsMax)])
      let stdout = ''
      let stderr = ''
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
      child.stdout!.on('data', (d: Buffer) => {
        stdout += d.toString()
        if (stdout.split('\n').length > killAfter) child.kill('SIGKILL')
      })
      const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])))
      assert.ok(signal === 'SIGKILL' || code === 0, `child ended with code ${code}, signal ${signal}: ${stderr}`)
      const acked = stdout.split('\n').filter((l) => l !== '').map(Number)
      const {log: reopened, records, dropped} = await FileLog.open(file)
      await reopened.close()
      const stored = records.map((r) => (r as {i: number}).i)
      const context = `killed after ${killAfter} lines; ${acked.length} acknowledged, ${stored.length} stored, dropped ${JSON.stringify(dropped)}`
      assert.deepEqual(stored, stored.map((_, i) => i), `records are not 0..n-1 in order: ${context}`)
      const missing = acked.filter((i) => i >= stored.length)
      assert.deepEqual(missing, [], `acknowledged but lost: ${context}`)
      assert.ok(acked.length >= Math.min(killAfter, appendsMax), context)
    })
  }
})
