import assert from 'node:assert/strict'
import path from 'node:path'
import {connect} from '../../src/core/jsonrpc/index.js'
import {nbSchema, ok, startDbServe, useTempDir} from './lib.js'

/** Rounds of write load, each ended by kill -9 of the server. */
const rounds = 4
/** Transactions a client keeps in flight. */
const inFlight = 8

describe('db-serve killed with SIGKILL under write load', function () {
  this.timeout(180000)
  const tmp = useTempDir()

  it('never loses a transaction acknowledged as durable, and the file always reopens', async () => {
    const db = path.join(tmp.dir, 'crash.db')
    await ok('ovnctl', ['db-create', db, nbSchema])
    const acked: string[] = []
    for (let round = 1; round <= rounds; round++) {
      const server = await startDbServe(tmp.dir, [db], [], `crash${round}`)
      const conn = await connect(`unix:${server.sock}`, {timeoutMs: 5000})
      // Kill after a varying number of acknowledgements, while transactions are still in flight.
      const killAt = acked.length + 50 + round * 97
      let next = 0
      let killed = false
      await Promise.all(Array.from({length: inFlight}, async () => {
        while (!killed) {
          const name = `r${round}-${next++}`
          const ops = [{op: 'insert', table: 'Logical_Switch', row: {name}}, {op: 'commit', durable: true}]
          try {
            const r = (await conn.request('transact', ['OVN_Northbound', ...ops])) as {uuid?: unknown}[]
            assert.ok(r[0]?.uuid !== undefined, `transaction ${name} failed: ${JSON.stringify(r)}`)
            acked.push(name)
          } catch {
            return // the server is gone: this transaction was never acknowledged
          }
          if (acked.length >= killAt && !killed) {
            killed = true
            process.kill(server.pid, 'SIGKILL')
          }
        }
      }))
      await server.stop()
      // The real tool reads the file as it was left.
      await ok('ovsdb-tool', ['db-name', db])
    }
    const server = await startDbServe(tmp.dir, [db], [], 'after')
    const rows = await ok('ovsdb-client', ['dump', `unix:${server.sock}`, 'OVN_Northbound', 'Logical_Switch', 'name'])
    await server.stop()
    const present = new Set(rows.split('\n').map((l) => l.trim().replace(/^"|"$/g, '')))
    const lost = acked.filter((n) => !present.has(n))
    assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged durable transactions were lost`)
    assert.ok(acked.length > rounds * 50)
  })
})
