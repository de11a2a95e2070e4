import assert from 'node:assert/strict'
import fc from 'fast-check'
import {fromBase64, toBase64} from '../../src/core/digest/base64.js'
import {DigestDecodeError, type DigestRefusal} from '../../src/core/digest/errors.js'
import {Iblt} from '../../src/core/digest/iblt.js'
import {StrataEstimator} from '../../src/core/digest/strata.js'
import {
  decodeDigestList,
  decodeEstimator,
  decodeTable,
  encodeDigestList,
  encodeEstimator,
  encodeTable,
  tableCellBytes,
  wireOverheadBytes,
} from '../../src/core/digest/wire.js'

const digestArb = fc.tuple(fc.nat({max: 0xffffffff}), fc.nat({max: 0xffffffff})).map(([hi, lo]) => ({hi, lo}))
const fingerprint = {hi: 0x0123abcd, lo: 0x98765432}
const header = {fingerprint, saltId: 7, summary: {count: 3, sumA: 11, sumB: 0xfffffff0}}
const expect = {fingerprint, saltId: 7, k: 4, subCellsMax: 60}

function sampleTable(): Iblt {
  const t = new Iblt(4, 12)
  for (let i = 0; i < 30; i++) t.add({hi: i * 2654435761 >>> 0, lo: i})
  return t
}

function refusal(fn: () => unknown): DigestRefusal | 'accepted' {
  try {
    fn()
    return 'accepted'
  } catch (error) {
    if (error instanceof DigestDecodeError) return error.code
    throw error
  }
}

describe('digest wire format', () => {
  it('round-trips a table, its header summary and its size', () => {
    const t = sampleTable()
    const bytes = encodeTable(t, header)
    assert.equal(bytes.length, wireOverheadBytes + t.cells * tableCellBytes)
    const {table, summary} = decodeTable(bytes, {...expect, subCells: 12})
    assert.deepEqual(summary, header.summary)
    assert.deepEqual([...table.count], [...t.count].map((c) => c & 0xff))
    assert.deepEqual([table.keyHi, table.keyLo, table.hash], [t.keyHi, t.keyLo, t.hash])
  })

  it('round-trips a strata estimator and a digest list', () => {
    fc.assert(
      fc.property(fc.array(digestArb, {maxLength: 200}), (digests) => {
        const est = new StrataEstimator()
        for (const d of digests) est.add(d)
        const back = decodeEstimator(encodeEstimator(est, header), {...header, shape: est.shape}).estimator
        est.strata.forEach((s, i) => {
          assert.deepEqual([...back.strata[i].count], [...s.count].map((c) => c & 0xff), `stratum ${i}`)
          assert.deepEqual([back.strata[i].keyLo, back.strata[i].hash], [s.keyLo, s.hash], `stratum ${i}`)
        })
        assert.deepEqual(decodeDigestList(encodeDigestList(digests, header), {...header, countMax: 200}).digests, digests)
      }),
      {numRuns: 30},
    )
  })

  it('refuses a table of another size than the one asked for, or not dividing the maximum', () => {
    const bytes = encodeTable(sampleTable(), header)
    assert.equal(refusal(() => decodeTable(bytes, {...expect, subCells: 24})), 'size')
    assert.equal(refusal(() => decodeTable(bytes, {...expect, subCellsMax: 50})), 'size')
    assert.equal(refusal(() => decodeTable(bytes, {...expect, subCellsMax: 60})), 'accepted')
  })

  it('refuses a table built for another schema or condition, under another salt, or with another k', () => {
    const bytes = encodeTable(sampleTable(), header)
    assert.equal(refusal(() => decodeTable(bytes, {...expect, fingerprint: {hi: 0x0123abcd, lo: 0}})), 'fingerprint')
    assert.equal(refusal(() => decodeTable(bytes, {...expect, saltId: 8})), 'salt')
    assert.equal(refusal(() => decodeTable(bytes, {...expect, k: 3})), 'shape')
  })

  it('says which check refused the message, quoting the values', () => {
    const bytes = encodeTable(sampleTable(), header)
    assert.throws(() => decodeTable(bytes, {...expect, saltId: 8}), {
      name: 'DigestDecodeError',
      message: 'Cannot decode digest message: salt id 7 is not 8',
    })
  })

  it('refuses an estimator where a table is expected, and an estimator of another shape', () => {
    const est = encodeEstimator(new StrataEstimator(), header)
    assert.equal(refusal(() => decodeTable(est, expect)), 'kind')
    assert.equal(refusal(() => decodeEstimator(est, {...header, shape: {strata: 10, k: 4, subCells: 6}})), 'size')
  })

  it('refuses a digest list longer than the receiver allows', () => {
    const bytes = encodeDigestList([{hi: 1, lo: 2}, {hi: 3, lo: 4}], header)
    assert.equal(refusal(() => decodeDigestList(bytes, {...header, countMax: 1})), 'size')
  })

  it('detects any single changed byte as corruption, or refuses it by magic, version or length', () => {
    const bytes = encodeTable(sampleTable(), header)
    fc.assert(
      fc.property(fc.nat({max: bytes.length - 1}), fc.integer({min: 1, max: 255}), (at, flip) => {
        const damaged = bytes.slice()
        damaged[at] ^= flip
        const code = refusal(() => decodeTable(damaged, expect))
        const expected = at < 2 ? 'magic' : at === 2 ? 'version' : 'checksum'
        assert.equal(code, expected, `byte ${at} xor ${flip}`)
      }),
      {numRuns: 300},
    )
  })

  it('refuses truncated and extended messages', () => {
    const bytes = encodeTable(sampleTable(), header)
    assert.equal(refusal(() => decodeTable(bytes.subarray(0, 20), expect)), 'truncated')
    assert.equal(refusal(() => decodeTable(bytes.subarray(0, bytes.length - 13), expect)), 'checksum')
    const longer = new Uint8Array(bytes.length + 1)
    longer.set(bytes)
    assert.equal(refusal(() => decodeTable(longer, expect)), 'checksum')
  })
})

describe('base64', () => {
  it('round-trips any bytes and matches Node\'s encoder', () => {
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 5000}), (bytes) => {
        const text = toBase64(bytes)
        assert.equal(text, Buffer.from(bytes).toString('base64'))
        assert.deepEqual(fromBase64(text), bytes)
      }),
      {numRuns: 100},
    )
  })

  it('refuses characters outside the alphabet and lengths that are not a multiple of 4', () => {
    assert.equal(refusal(() => fromBase64('AAA*')), 'base64')
    assert.equal(refusal(() => fromBase64('AA AA')), 'base64')
    assert.equal(refusal(() => fromBase64('AAAAA')), 'base64')
    assert.equal(refusal(() => fromBase64('A=AA')), 'base64')
  })
})
