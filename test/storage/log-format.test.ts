import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import fc from 'fast-check'
import {
  decodeLog,
  decodeRecordAt,
  encodeRecord,
  fileMagic,
  headerBytesMax,
  isHeaderPrefix,
  type Sha1,
} from '../../src/core/storage/log-format.js'

const sha1: Sha1 = (data) => createHash('sha1').update(data).digest('hex')

/** A schema record exactly as `ovsdb-tool create` (OVS 3.1) wrote it for a small test schema. */
const goldenSchemaRecord =
  'OVSDB JSON 189 5f8eaab80561c0f56bed74e520a7f5d10e65c02e\n' +
  '{"cksum":"12345 67","name":"Test","version":"1.2.3","tables":{"T":{"columns":{"name":{"type":"string"},' +
  '"n":{"type":"integer"},"tags":{"type":{"max":"unlimited","min":0,"key":"string"}}}}}}\n'

/** A transaction record exactly as ovsdb-server 3.1 wrote it (LF inside a string is escaped). */
const goldenTxnRecord =
  'OVSDB JSON 151 d7a0a6b3e0e859b2c91244390a3317354cc2ff1f\n' +
  '{"_date":1795512175075,"_is_diff":true,"T":{"e5e04859-9e7a-4d78-ae11-cf0f4a943b0d":{"name":"a\\nb","n":5,' +
  '"tags":["set",["x","y"]]}},"_comment":"hello"}\n'

const golden = Buffer.from(goldenSchemaRecord + goldenTxnRecord)

function encodeAll(records: object[]): Buffer {
  return Buffer.concat(records.map((r) => encodeRecord(r, sha1)))
}

describe('OVSDB log record format', () => {
  it('encodes records byte for byte as ovsdb-tool and ovsdb-server write them', () => {
    for (const text of [goldenSchemaRecord, goldenTxnRecord]) {
      const json = JSON.parse(text.slice(text.indexOf('\n') + 1))
      assert.equal(encodeRecord(json, sha1).toString('utf8'), text, `input ${JSON.stringify(json)}`)
    }
  })

  it('decodes records written by the real tools, with offsets and lengths that tile the file', () => {
    const {records, validBytes, stop} = decodeLog(golden, sha1)
    assert.equal(stop, null)
    assert.equal(validBytes, golden.length)
    assert.deepEqual(
      records.map((r) => [r.offset, r.length]),
      [
        [0, goldenSchemaRecord.length],
        [goldenSchemaRecord.length, goldenTxnRecord.length],
      ],
    )
    assert.equal((records[1].json.T as Record<string, {name: string}>)['e5e04859-9e7a-4d78-ae11-cf0f4a943b0d'].name, 'a\nb')
  })

  it('counts the length in bytes of UTF-8, LF included', () => {
    const bytes = encodeRecord({s: 'é☃'}, sha1)
    const body = '{"s":"é☃"}\n'
    assert.equal(bytes.toString('utf8').split('\n')[0].split(' ')[2], String(Buffer.byteLength(body)))
    assert.deepEqual(decodeLog(bytes, sha1).records[0].json, {s: 'é☃'})
  })

  it('reads a body spread over several lines when length and hash are right (ovsdb(5) tolerates LFs)', () => {
    const body = Buffer.from('{\n"a": 1\n}\n')
    const bytes = Buffer.concat([Buffer.from(`OVSDB JSON ${body.length} ${sha1(body)}\n`), body])
    assert.deepEqual(decodeLog(bytes, sha1).records.map((r) => r.json), [{a: 1}])
  })

  it('refuses to encode a value that is not a JSON object, or a record over recordBytesMax', () => {
    assert.throws(() => encodeRecord([1, 2] as unknown as object, sha1), TypeError)
    assert.throws(() => encodeRecord({s: 'x'.repeat(100)}, sha1, {limits: {recordBytesMax: 50}}), /recordBytesMax=50/)
  })

  it('keeps the valid prefix whatever byte the last record is cut at, and says the tail is torn', () => {
    const lastStart = goldenSchemaRecord.length
    for (let cut = lastStart + 1; cut < golden.length; cut++) {
      const {records, validBytes, stop} = decodeLog(golden.subarray(0, cut), sha1)
      const context = `cut at byte ${cut} of ${golden.length}: stop ${JSON.stringify(stop)}`
      assert.equal(records.length, 1, context)
      assert.equal(validBytes, lastStart, context)
      assert.ok(stop && stop.offset === lastStart, context)
      const headerEnd = lastStart + goldenTxnRecord.indexOf('\n')
      assert.equal(stop.reason, cut <= headerEnd ? 'short header' : 'length beyond EOF', context)
    }
  })

  it('stops at a record whose SHA-1 does not match its body', () => {
    const bytes = Buffer.from(golden)
    const i = goldenSchemaRecord.length + goldenTxnRecord.indexOf('hello')
    bytes[i] = 'j'.charCodeAt(0)
    const {records, stop} = decodeLog(bytes, sha1)
    assert.equal(records.length, 1)
    assert.deepEqual(stop && [stop.offset, stop.reason], [goldenSchemaRecord.length, 'SHA-1 mismatch'])
  })

  it('stops at a record whose hash matches but whose body is not a JSON object', () => {
    for (const text of ['{"a":\n', '[1,2]\n', '42\n']) {
      const body = Buffer.from(text)
      const bytes = Buffer.concat([Buffer.from(goldenSchemaRecord), Buffer.from(`OVSDB JSON ${body.length} ${sha1(body)}\n`), body])
      const {stop} = decodeLog(bytes, sha1)
      assert.deepEqual(stop && [stop.offset, stop.reason], [goldenSchemaRecord.length, 'invalid JSON'], `body ${JSON.stringify(text)}`)
    }
  })

  it('stops at garbage appended after the last record, calling it a bad header and not a torn one', () => {
    for (const garbage of ['garbage', 'garbage\n', '\0\0\0\0', 'OVSDB JSON x y\n', 'x'.repeat(headerBytesMax + 10)]) {
      const {records, validBytes, stop} = decodeLog(Buffer.concat([golden, Buffer.from(garbage)]), sha1)
      const context = `garbage ${JSON.stringify(garbage)}: stop ${JSON.stringify(stop)}`
      assert.equal(records.length, 2, context)
      assert.equal(validBytes, golden.length, context)
      assert.equal(stop?.reason, 'bad header', context)
    }
  })

  it('stops at a record with the clustered magic inside a standalone file', () => {
    const bytes = Buffer.concat([Buffer.from(goldenSchemaRecord), encodeRecord({a: 1}, sha1, {magic: 'CLUSTER'})])
    const {stop} = decodeLog(bytes, sha1)
    assert.deepEqual(stop && [stop.offset, stop.reason], [goldenSchemaRecord.length, 'bad magic'])
  })

  it('tells the magic of a file from its first header', () => {
    assert.equal(fileMagic(golden), 'JSON')
    assert.equal(fileMagic(encodeRecord({server_id: 'x'}, sha1, {magic: 'CLUSTER'})), 'CLUSTER')
    assert.equal(fileMagic(Buffer.from('not a database\n')), null)
    assert.equal(fileMagic(Buffer.alloc(0)), null)
  })

  it('stops at a record longer than recordBytesMax without reading it', () => {
    const step = decodeRecordAt(golden, 0, sha1, {limits: {recordBytesMax: 100}})
    assert.equal(step.kind === 'stop' && step.stop.reason, 'record too large')
  })

  it('recognises every prefix of a valid header as a possible torn header, and nothing else', () => {
    const header = 'OVSDB CLUSTER 12345 5f8eaab80561c0f56bed74e520a7f5d10e65c02e'
    for (let i = 0; i <= header.length; i++) assert.ok(isHeaderPrefix(header.slice(0, i)), `prefix ${JSON.stringify(header.slice(0, i))}`)
    for (const bad of ['X', 'OVSDB json', 'OVSDB JSON 12a', 'OVSDB JSON 12 xyz', 'OVSDB  JSON']) {
      assert.ok(!isHeaderPrefix(bad), `not a prefix: ${JSON.stringify(bad)}`)
    }
  })

  it('reads back any sequence of records it wrote', () => {
    const record = fc.dictionary(fc.string(), fc.jsonValue({maxDepth: 3}), {maxKeys: 5})
    fc.assert(
      fc.property(fc.array(record, {maxLength: 10}), (records) => {
        const {records: decoded, stop, validBytes} = decodeLog(encodeAll(records), sha1)
        assert.equal(stop, null)
        assert.deepEqual(decoded.map((r) => r.json), JSON.parse(JSON.stringify(records)))
        assert.equal(validBytes, encodeAll(records).length)
      }),
    )
  })

  it('keeps exactly the records complete before a random cut', () => {
    const record = fc.dictionary(fc.string(), fc.jsonValue({maxDepth: 2}), {maxKeys: 4})
    fc.assert(
      fc.property(fc.array(record, {minLength: 1, maxLength: 8}), fc.nat(), (records, seed) => {
        const encoded = records.map((r) => encodeRecord(r, sha1))
        const bytes = Buffer.concat(encoded)
        const cut = seed % (bytes.length + 1)
        let complete = 0
        for (let end = 0, i = 0; i < encoded.length && end + encoded[i].length <= cut; i++) {
          end += encoded[i].length
          complete++
        }
        const decoded = decodeLog(bytes.subarray(0, cut), sha1)
        assert.deepEqual(decoded.records.map((r) => r.json), JSON.parse(JSON.stringify(records.slice(0, complete))))
        const boundary = encoded.slice(0, complete).reduce((n, b) => n + b.length, 0)
        assert.equal(decoded.validBytes, boundary)
        assert.equal(decoded.stop === null, cut === boundary, `cut ${cut}, boundary ${boundary}, stop ${JSON.stringify(decoded.stop)}`)
        if (decoded.stop) assert.ok(['short header', 'length beyond EOF'].includes(decoded.stop.reason), decoded.stop.reason)
      }),
    )
  })
})
