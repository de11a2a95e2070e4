import assert from 'node:assert/strict'
import path from 'node:path'
import {buildTopology} from './topology.js'
import {nbSchema, ok, requireBuild, type ServerProcess, startDbServe, tempDir} from './lib.js'

describe('ovn-nbctl and ovn-sbctl against db-serve', function () {
  this.timeout(60000)
  let tmp: ReturnType<typeof tempDir>
  let server: ServerProcess
  let nb: string

  before(async () => {
    requireBuild()
    tmp = tempDir()
    const db = path.join(tmp.dir, 'nb.db')
    await ok('ovnctl', ['db-create', db, nbSchema])
    server = await startDbServe(tmp.dir, [db])
    nb = `unix:${server.sock}`
  })
  after(async () => {
    await server?.stop()
    tmp?.cleanup()
  })

  it('builds a topology of switches, ports, a router, ACLs and a load balancer', async () => {
    await buildTopology(nb)
    const show = await ok('ovn-nbctl', [`--db=${nb}`, 'show'])
    for (const name of ['sw0', 'sw1', 'sw0-p1', 'sw0-p3', 'sw1-p1', 'lr0', 'lr0-sw0', '10.0.0.1/24']) {
      assert.ok(show.includes(name), `ovn-nbctl show lacks "${name}":\n${show}`)
    }
    assert.match(await ok('ovn-nbctl', [`--db=${nb}`, 'acl-list', 'sw0']), /tcp\.dst == 22.*drop/)
    assert.match(await ok('ovn-nbctl', [`--db=${nb}`, 'lb-list']), /lb0\s+tcp\s+10\.0\.0\.100:80\s+10\.0\.0\.11:8080,10\.0\.0\.12:8080/)
    assert.equal((await ok('ovn-nbctl', [`--db=${nb}`, '--bare', '--columns=name', 'find', 'Logical_Switch_Port', 'type=router'])).trim().split(/\s+/).sort().join(','), 'sw0-lr0,sw1-lr0')
  })

  it('refuses a duplicate switch name with ovn-nbctl\'s own error and changes nothing', async () => {
    const before = await ok('ovn-nbctl', [`--db=${nb}`, 'ls-list'])
    const dup = await ok('ovn-nbctl', [`--db=${nb}`, 'ls-add', 'sw0']).catch((err: Error) => err.message)
    assert.match(dup, /already exists/)
    assert.equal(await ok('ovn-nbctl', [`--db=${nb}`, 'ls-list']), before)
  })
})
