import assert from 'node:assert/strict'
import {type ChildProcessWithoutNullStreams, spawn} from 'node:child_process'
import path from 'node:path'
import {createInterface} from 'node:readline'
import {nbSchema, ok, root, useFreshServer} from './lib.js'

/** The Python IDL helper process, answering one JSON line per command. */
class PyIdl {
  private readonly lines: string[] = []
  private waiting: ((line: string) => void) | null = null
  constructor(readonly child: ChildProcessWithoutNullStreams) {
    createInterface({input: child.stdout}).on('line', (line) => {
      if (this.waiting) {
        const w = this.waiting
        this.waiting = null
        w(line)
      } else this.lines.push(line)
    })
  }

  next(timeoutMs = 15000): Promise<Record<string, unknown>> {
    const line = this.lines.shift()
    if (line !== undefined) return Promise.resolve(JSON.parse(line))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the Python IDL did not answer in time')), timeoutMs)
      this.waiting = (l) => {
        clearTimeout(timer)
        resolve(JSON.parse(l))
      }
    })
  }

  async command(cmd: string): Promise<Record<string, unknown>> {
    this.child.stdin.write(cmd + '\n')
    return this.next()
  }
}

for (const extra of [[], ['--io-threads=2']]) {
  describe(`the Python IDL (module ovs) against db-serve${extra.length > 0 ? ' through 2 I/O threads' : ''}`, function () {
    this.timeout(60000)
    const fresh = useFreshServer(nbSchema, extra)
    let idl: PyIdl

    before(() => {
      const script = path.join(root, 'test', 'interop', 'py', 'idl_track.py')
      idl = new PyIdl(spawn('/usr/bin/python3', [script, fresh.remote, nbSchema]))
    })
    after(() => idl?.child.kill())

    const transact = (ops: object[]) => ok('ovsdb-client', ['transact', fresh.remote, JSON.stringify(['OVN_Northbound', ...ops])])

    it('connects and replicates the table', async () => {
      assert.deepEqual(await idl.next(), {event: 'connected', ok: true, rows: []})
    })

    it('tracks rows that other clients insert and delete', async () => {
      await transact([{op: 'insert', table: 'Logical_Switch', row: {name: 'a'}}, {op: 'insert', table: 'Logical_Switch', row: {name: 'b'}}])
      assert.deepEqual(await idl.command('wait 2'), {event: 'wait', ok: true, rows: ['a', 'b']})
      await transact([{op: 'delete', table: 'Logical_Switch', where: [['name', '==', 'a']]}])
      assert.deepEqual(await idl.command('wait 1'), {event: 'wait', ok: true, rows: ['b']})
    })

    it('commits its own transaction', async () => {
      assert.deepEqual(await idl.command('insert c'), {event: 'insert', status: 'success'})
      assert.deepEqual(await idl.command('dump'), {event: 'dump', rows: ['b', 'c']})
    })

    it('follows a conditional monitor whose condition changes', async () => {
      assert.deepEqual(await idl.command('cond b'), {event: 'cond', ok: true, rows: ['b']})
      assert.deepEqual(await idl.command('cond c'), {event: 'cond', ok: true, rows: ['c']})
    })

    it('sees rows enter and leave its changed condition as other clients write', async () => {
      await transact([{op: 'insert', table: 'Logical_Switch', row: {name: 'c'}}])
      assert.deepEqual(await idl.command('wait 2'), {event: 'wait', ok: true, rows: ['c', 'c']})
      await transact([{op: 'update', table: 'Logical_Switch', where: [['name', '==', 'c']], row: {name: 'd'}}])
      assert.deepEqual(await idl.command('wait 0'), {event: 'wait', ok: true, rows: []})
      await transact([{op: 'update', table: 'Logical_Switch', where: [['name', '==', 'b']], row: {name: 'c'}}])
      assert.deepEqual(await idl.command('wait 1'), {event: 'wait', ok: true, rows: ['c']})
    })
  })
}
