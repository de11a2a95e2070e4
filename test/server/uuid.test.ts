import assert from 'node:assert/strict'
import {newUuid} from '../../src/core/server/uuid.js'

describe('random UUIDs', () => {
  it('are RFC 4122 version 4 in lowercase text, and do not repeat', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 5000; i++) {
      const u = newUuid()
      assert.match(u, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, `not a version 4 UUID: ${u}`)
      seen.add(u)
    }
    assert.equal(seen.size, 5000)
  })
})
