import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import fs from 'node:fs'
import {eventually, nbSchema, ok, useFreshServer} from './lib.js'

for (const extra of [[], ['--io-threads=2']]) {
  describe(`the real ovsdb-client against db-serve${extra.length > 0 ? ' through 2 I/O threads' : ''}`, function () {
    this.timeout(60000)
    const fresh = useFreshServer(nbSchema, extra)

    it('lists the databases', async () => {
      assert.equal(await ok('ovsdb-client', ['list-dbs', fresh.remote]), 'OVN_Northbound\n_Server\n')
    })

    it('gets the schema it was created from, byte for byte as JSON', async () => {
      const schema = JSON.parse(await ok('ovsdb-client', ['get-schema', fresh.remote, 'OVN_Northbound']))
      const expected = JSON.parse(fs.readFileSync(nbSchema, 'utf8'))
      assert.equal(schema.version, expected.version)
      assert.equal(schema.cksum, expected.cksum)
      assert.deepEqual(Object.keys(schema.tables).sort(), Object.keys(expected.tables).sort())
      assert.equal(await ok('ovsdb-client', ['get-schema-version', fresh.remote, 'OVN_Northbound']), `${expected.version}\n`)
    })

    it('transacts and dumps what it wrote', async () => {
      const out = await ok('ovsdb-client', ['transact', fresh.remote, JSON.stringify(['OVN_Northbound', {op: 'insert', table: 'Logical_Switch', row: {name: 'sw-dump', other_config: ['map', [['k', 'v']]]}}])])
      assert.match(out, /^\[\{"uuid":\["uuid","[0-9a-f-]{36}"\]\}\]\n$/)
      const dump = await ok('ovsdb-client', ['dump', fresh.remote, 'OVN_Northbound', 'Logical_Switch', 'name', 'other_config'])
      assert.match(dump, /sw-dump\s+\{k=v\}/)
      const json = JSON.parse(await ok('ovsdb-client', ['--format=json', 'dump', fresh.remote, 'OVN_Northbound', 'Logical_Switch', 'name']))
      assert.deepEqual(json.data, [['sw-dump']])
    })

    it('streams changes to "monitor" and "monitor-cond" as they commit', async () => {
      for (const [method, args] of [
        ['monitor', ['Logical_Switch', 'name']],
        ['monitor-cond', ['[["name","==","sw-mon"]]', 'Logical_Switch', 'name']],
      ] as const) {
        const child = spawn('ovsdb-client', ['--format=csv', '--timestamp', method, fresh.remote, 'OVN_Northbound', ...args], {stdio: ['ignore', 'pipe', 'pipe']})
        let out = ''
        child.stdout.on('data', (d) => (out += d))
        try {
          await eventually(() => out.length > 0 || method === 'monitor-cond', 5000, `${method} to start`)
          await new Promise((r) => setTimeout(r, 300))
          await ok('ovsdb-client', ['transact', fresh.remote, JSON.stringify(['OVN_Northbound', {op: 'insert', table: 'Logical_Switch', row: {name: 'sw-mon'}}])])
          await eventually(() => /insert.*sw-mon/.test(out), 5000, `"${method}" to print the insert of sw-mon, got ${JSON.stringify(out)}`)
          await ok('ovsdb-client', ['transact', fresh.remote, JSON.stringify(['OVN_Northbound', {op: 'delete', table: 'Logical_Switch', where: [['name', '==', 'sw-mon']]}])])
          // monitor prints the deleted row's old values; monitor-cond (update2) has none to print.
          const uuid = /([0-9a-f-]{36}),insert,sw-mon/.exec(out)![1]
          await eventually(() => out.includes(`${uuid},delete,`), 5000, `"${method}" to print the delete of sw-mon, got ${JSON.stringify(out)}`)
        } finally {
          child.kill()
        }
      }
    })

    it('hands a lock from one ovsdb-client to another waiting for it', async () => {
      const first = spawn('ovsdb-client', ['lock', fresh.remote, 'mylock'], {stdio: ['ignore', 'pipe', 'pipe']})
      let firstOut = ''
      first.stdout.on('data', (d) => (firstOut += d))
      await eventually(() => firstOut.includes('{"locked":true}'), 5000, 'the first client to get the lock')
      const second = spawn('ovsdb-client', ['lock', fresh.remote, 'mylock'], {stdio: ['ignore', 'pipe', 'pipe']})
      let secondOut = ''
      second.stdout.on('data', (d) => (secondOut += d))
      try {
        await eventually(() => secondOut.includes('{"locked":false}'), 5000, 'the second client to wait')
        first.kill()
        // ovsdb-client prints the "locked" notification as its method name, then its params.
        await eventually(() => /^locked\n\["mylock"\]$/m.test(secondOut), 5000, `the second client to get the lock, got ${JSON.stringify(secondOut)}`)
      } finally {
        first.kill()
        second.kill()
      }
    })

    it('answers ovs-appctl on its control socket', async () => {
      assert.match(await ok('ovs-appctl', ['-t', fresh.server.ctl, 'list-commands']), /ovsdb-server\/compact/)
      assert.equal(await ok('ovs-appctl', ['-t', fresh.server.ctl, 'ovsdb-server/list-dbs']), 'OVN_Northbound\n_Server\n')
      assert.match(await ok('ovs-appctl', ['-t', fresh.server.ctl, 'memory/show']), /cells:\d+/)
      assert.equal(await ok('ovs-appctl', ['-t', fresh.server.ctl, 'ovsdb-server/compact']), '')
    })
  })
}
