import assert from 'node:assert/strict'
import fc from 'fast-check'
import {FramingError, JsonSplitter, JsonSyntaxError} from '../../src/core/jsonrpc/framing.js'

const limits = {messageBytesMax: 1 << 20, depthMax: 64}

function splitAll(chunks: Buffer[], lim = limits): unknown[] {
  const splitter = new JsonSplitter(lim)
  return chunks.flatMap((c) => splitter.push(c))
}

describe('JSON stream splitting', () => {
  it('returns back-to-back values whatever the chunk boundaries', () => {
    const message = fc.oneof(
      fc.dictionary(fc.string(), fc.jsonValue()),
      fc.array(fc.jsonValue()),
    )
    fc.assert(
      fc.property(fc.array(message, {maxLength: 8}), fc.array(fc.nat(), {maxLength: 10}), (values, cuts) => {
        const bytes = Buffer.from(values.map((v) => JSON.stringify(v) + (v && typeof v === 'object' ? ' \n' : '')).join(''))
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
        const chunks: Buffer[] = []
        let last = 0
        for (const p of [...points, bytes.length]) {
          chunks.push(bytes.subarray(last, p))
          last = p
        }
        assert.deepEqual(splitAll(chunks), JSON.parse(JSON.stringify(values)))
      }),
    )
  })

  it('ignores braces and brackets inside strings, including escaped quotes', () => {
    const text = '{"a":"}]\\"{["}["x\\\\",{"b":"\\\\\\""}]'
    assert.deepEqual(splitAll([Buffer.from(text)]), [{a: '}]"{['}, ['x\\', {b: '\\"'}]])
  })

  it('reports invalid JSON inside a well-framed message without losing the next one', () => {
    const out = splitAll([Buffer.from('{"a":}{"b":1}')])
    assert.ok(out[0] instanceof JsonSyntaxError, `expected a JsonSyntaxError, got ${JSON.stringify(out[0])}`)
    assert.deepEqual(out[1], {b: 1})
  })

  it('refuses a closing bracket that does not match the open one at once', () => {
    assert.throws(() => splitAll([Buffer.from('{"a":[}')]), /unexpected "}"/)
    assert.throws(() => splitAll([Buffer.from('[{]')]), /unexpected "]"/)
  })

  it('refuses a bare scalar where a message should start', () => {
    assert.throws(() => splitAll([Buffer.from('42')]), FramingError)
  })

  it('refuses a message larger than messageBytesMax, even before it completes', () => {
    const lim = {messageBytesMax: 100, depthMax: 64}
    assert.throws(() => splitAll([Buffer.from('{"a":"' + 'x'.repeat(200))], lim), /messageBytesMax=100/)
    assert.throws(() => splitAll([Buffer.from('{"a":"' + 'x'.repeat(200) + '"}')], lim), /messageBytesMax=100/)
  })

  it('refuses nesting deeper than depthMax', () => {
    assert.throws(() => splitAll([Buffer.from('['.repeat(65))]), /depthMax=64/)
    assert.deepEqual(splitAll([Buffer.from('['.repeat(64) + ']'.repeat(64))]).length, 1)
  })
})
