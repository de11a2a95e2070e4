import assert from 'node:assert/strict'
import {parseRemote} from '../../src/core/jsonrpc/remote.js'

describe('connection method parsing', () => {
  const cases: [string, unknown][] = [
    ['punix:/run/ovn/ovnsb_db.sock', {kind: 'punix', path: '/run/ovn/ovnsb_db.sock'}],
    ['unix:db.sock', {kind: 'unix', path: 'db.sock'}],
    ['ptcp:6642', {kind: 'ptcp', host: '0.0.0.0', port: 6642}],
    ['ptcp:6642:127.0.0.1', {kind: 'ptcp', host: '127.0.0.1', port: 6642}],
    ['ptcp:0:[::1]', {kind: 'ptcp', host: '::1', port: 0}],
    ['tcp:127.0.0.1:6641', {kind: 'tcp', host: '127.0.0.1', port: 6641}],
    ['tcp:[::1]:6641', {kind: 'tcp', host: '::1', port: 6641}],
  ]
  for (const [text, expected] of cases) {
    it(`parses "${text}"`, () => {
      assert.deepEqual(parseRemote(text), {...(expected as object), text})
    })
  }
  for (const bad of ['', 'foo:bar', 'tcp:127.0.0.1', 'tcp:127.0.0.1:99999', 'punix:', 'ptcp:abc']) {
    it(`refuses "${bad}" with a message naming it`, () => {
      assert.throws(() => parseRemote(bad), (err: Error) => err.message.includes(`"${bad}"`))
    })
  }
})
