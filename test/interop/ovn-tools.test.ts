import assert from 'node:assert/strict'
import {buildTopology} from './topology.js'
import {nbSchema, ok, useFreshServer} from './lib.js'

for (const extra of [[], ['--io-threads=2']]) {
  describe(`ovn-nbctl and ovn-sbctl against db-serve${extra.length > 0 ? ' through 2 I/O threads' : ''}`, function () {
    this.timeout(60000)
    const fresh = useFreshServer(nbSchema, extra)

    it('builds a topology of switches, ports, a router, ACLs and a load balancer', async () => {
      await buildTopology(fresh.remote)
      const show = await ok('ovn-nbctl', [`--db=${fresh.remote}`, 'show'])
      for (const name of ['sw0', 'sw1', 'sw0-p1', 'sw0-p3', 'sw1-p1', 'lr0', 'lr0-sw0', '10.0.0.1/24']) {
        assert.ok(show.includes(name), `ovn-nbctl show lacks "${name}":\n${show}`)
      }
      assert.match(await ok('ovn-nbctl', [`--db=${fresh.remote}`, 'acl-list', 'sw0']), /tcp\.dst == 22.*drop/)
      assert.match(await ok('ovn-nbctl', [`--db=${fresh.remote}`, 'lb-list']), /lb0\s+tcp\s+10\.0\.0\.100:80\s+10\.0\.0\.11:8080,10\.0\.0\.12:8080/)
      assert.equal((await ok('ovn-nbctl', [`--db=${fresh.remote}`, '--bare', '--columns=name', 'find', 'Logical_Switch_Port', 'type=router'])).trim().split(/\s+/).sort().join(','), 'sw0-lr0,sw1-lr0')
    })

    it('refuses a duplicate switch name with ovn-nbctl\'s own error and changes nothing', async () => {
      const before = await ok('ovn-nbctl', [`--db=${fresh.remote}`, 'ls-list'])
      const dup = await ok('ovn-nbctl', [`--db=${fresh.remote}`, 'ls-add', 'sw0']).catch((err: Error) => err.message)
      assert.match(dup, /already exists/)
      assert.equal(await ok('ovn-nbctl', [`--db=${fresh.remote}`, 'ls-list']), before)
    })
  })
}
