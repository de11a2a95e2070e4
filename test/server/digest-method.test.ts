import assert from 'node:assert/strict'
import {toBase64} from '../../src/core/digest/base64.js'
import {DigestIndex} from '../../src/core/digest/index.js'
import {fingerprint} from '../../src/core/digest/row-digest.js'
import {shapeFingerprint} from '../../src/core/digest/row-encoding.js'
import {encodeDigestList, encodeEstimator} from '../../src/core/digest/wire.js'
import {Harness, type TestClient} from './harness.js'

const requests = {Switch: [{columns: ['name']}]}
const shapeFp = shapeFingerprint('Test', '1.0.0', [{name: 'Switch', columns: ['name'], where: null}])

function estimate(saltId: number, fp = shapeFp): string {
  const index = new DigestIndex()
  return toBase64(encodeEstimator(index.estimator(), {fingerprint: fp, saltId, summary: index.summary()}))
}

describe('monitor_cond_digest on the server', () => {
  let h: Harness
  let c: TestClient
  let saltId: number
  beforeEach(async () => {
    h = await new Harness({dbLimits: {historyTxnsMax: 0}}).start()
    c = await h.client()
    await c.call('transact', ['Test', {op: 'insert', table: 'Switch', row: {name: 'sw0'}}, {op: 'insert', table: 'Switch', row: {name: 'sw1'}}])
    const salt = (await c.call('monitor_cond_digest', ['Test', 'probe', requests, '', {type: 'estimate', 'salt-id': 0, 'sub-cells-max': 10080, data: estimate(0)}])) as Record<string, unknown>
    assert.equal(salt.outcome, 'salt')
    saltId = salt['salt-id'] as number
  })
  afterEach(() => h.stop())

  const call = (message: unknown, id = 'm') => c.try('monitor_cond_digest', ['Test', id, requests, '', message])

  it('refuses a message that is not a digest message with a syntax error naming the field', async () => {
    assert.deepEqual(((await call('estimate')).error as {error: string}).error, 'syntax error')
    const noType = (await call({type: 'guess'})).error as {details: string}
    assert.match(noType.details, /"type" must be "estimate", "grow", "decode", "request" or "snapshot", not "guess"/)
    const badSize = (await call({type: 'grow', 'salt-id': saltId, 'sub-cells': -1})).error as {details: string}
    assert.match(badSize.details, /"sub-cells" must be an integer/)
    const few = (await c.try('monitor_cond_digest', ['Test', 'm', requests])).error as {details: string}
    assert.match(few.details, /monitor_cond_digest takes/)
  })

  it('answers a message made under another salt with its salt, and starts no monitor', async () => {
    const {result} = await call({type: 'estimate', 'salt-id': (saltId ^ 1) >>> 0, 'sub-cells-max': 10080, data: estimate((saltId ^ 1) >>> 0)})
    assert.equal((result as {outcome: string}).outcome, 'salt')
    // No monitor was started: the same id can be used again.
    const again = await call({type: 'snapshot'})
    assert.equal((again.result as {outcome: string}).outcome, 'snapshot')
  })

  it('refuses a corrupted estimate, says why, and sends a snapshot instead', async () => {
    const data = estimate(saltId)
    const damaged = data.slice(0, 60) + (data[60] === 'A' ? 'B' : 'A') + data.slice(61)
    const {result} = await call({type: 'estimate', 'salt-id': saltId, 'sub-cells-max': 10080, data: damaged})
    const r = result as {outcome: string; refused: string; updates: Record<string, object>}
    assert.equal(r.outcome, 'snapshot')
    assert.match(r.refused, /checksum .* does not match: corrupted in transit/)
    assert.equal(Object.keys(r.updates.Switch).length, 2)
  })

  it('refuses digests made for another schema or condition', async () => {
    const {result} = await call({type: 'estimate', 'salt-id': saltId, 'sub-cells-max': 10080, data: estimate(saltId, fingerprint('other'))})
    assert.match((result as {refused: string}).refused, /another schema or condition/)
  })

  it('refuses a table size that does not fold from its own and a digest list longer than its set', async () => {
    const grow = await call({type: 'grow', 'salt-id': saltId, 'sub-cells': 7}, 'g')
    assert.equal((grow.result as {outcome: string}).outcome, 'table', 'a divisor of 10080 is served')
    const wrong = await call({type: 'grow', 'salt-id': saltId, 'sub-cells': 11}, 'w')
    assert.equal((wrong.result as {outcome: string}).outcome, 'snapshot')
    const index = new DigestIndex()
    const list = toBase64(encodeDigestList([{hi: 1, lo: 2}, {hi: 3, lo: 4}, {hi: 5, lo: 6}], {fingerprint: shapeFp, saltId, summary: index.summary()}))
    const {result} = await call({type: 'request', 'salt-id': saltId, generation: 0, data: list}, 'l')
    assert.match((result as {refused: string}).refused, /list of 3 digests, at most 2 expected/)
  })

  it('leaves real monitor methods unchanged: monitor_cond_since still answers as before', async () => {
    const result = (await c.call('monitor_cond_since', ['Test', 'since', requests, ''])) as unknown[]
    assert.equal(result[0], false)
    assert.equal(Object.keys((result[2] as {Switch: object}).Switch).length, 2)
  })
})
