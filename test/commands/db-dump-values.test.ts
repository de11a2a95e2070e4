import assert from 'node:assert/strict'
import {ok, useFreshServer} from '../interop/lib.js'

describe('db-dump values keep their column type in JSON', function () {
  this.timeout(30000)
  const fresh = useFreshServer()

  it('prints a set column as an array even with one element, an optional scalar as its value or null', async () => {
    await ok('ovn-nbctl', [`--db=${fresh.remote}`, 'ls-add', 'sw0', '--', 'lsp-add', 'sw0', 'p1', '--', 'lsp-add', 'sw0', 'p2', '--', 'set', 'Logical_Switch_Port', 'p2', 'tag_request=7'])
    const switches = JSON.parse(await ok('ovnctl', ['db-dump', `--db=${fresh.remote}`, 'OVN_Northbound', 'Logical_Switch', 'name', 'ports', 'other_config', '--json']))
    assert.equal(switches.length, 1)
    assert.ok(Array.isArray(switches[0].ports) && switches[0].ports.length === 2, `ports: ${JSON.stringify(switches[0].ports)}`)
    assert.deepEqual(switches[0].other_config, {})
    const ports = JSON.parse(await ok('ovnctl', ['db-dump', `--db=${fresh.remote}`, 'OVN_Northbound', 'Logical_Switch_Port', 'name', 'tag_request', 'addresses', '--json']))
    assert.deepEqual(ports.map((p: {name: string; tag_request: unknown; addresses: unknown}) => [p.name, p.tag_request, p.addresses]), [['p1', null, []], ['p2', 7, []]])
    await ok('ovn-nbctl', [`--db=${fresh.remote}`, 'lsp-del', 'p2'])
    const one = JSON.parse(await ok('ovnctl', ['db-dump', `--db=${fresh.remote}`, 'OVN_Northbound', 'Logical_Switch', 'ports', '--json']))
    assert.ok(Array.isArray(one[0].ports) && one[0].ports.length === 1, `a one-element set must stay an array: ${JSON.stringify(one[0].ports)}`)
  })
})
