import assert from 'node:assert/strict'
import {type Changes, makeRow} from '../../src/core/ovsdb/index.js'
import {changesBytes, TxnHistory, zeroUuid} from '../../src/core/server/txn-history.js'

/** One commit inserting a row whose name is `size` characters long. */
function commit(uuid: string, size: number): Changes {
  const row = makeRow(uuid, uuid, {name: {keys: ['x'.repeat(size)]}})
  return new Map([['T', new Map([[uuid, {old: null, new: row}]])]])
}

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`

describe('the monitor_cond_since history', () => {
  it('drops the oldest commits once their estimated bytes pass historyBytesMax, and resumes only within what it holds', () => {
    const perCommit = changesBytes(commit(id(0), 1000))
    const h = new TxnHistory({historyTxnsMax: 1000, historyBytesMax: perCommit * 3})
    for (let n = 1; n <= 5; n++) h.push(id(n), commit(id(n), 1000))
    assert.equal(h.length, 3)
    assert.ok(h.bytes <= perCommit * 3, `${h.bytes} bytes kept`)
    assert.equal(h.since(id(1), id(5)), null, 'a client before the kept commits gets a full resend')
    assert.deepEqual(h.since(id(2), id(5))?.map((e) => e.txnId), [id(3), id(4), id(5)], 'a client at the last dropped commit needs every kept one')
    assert.deepEqual(h.since(id(4), id(5))?.map((e) => e.txnId), [id(5)])
    assert.deepEqual(h.since(id(5), id(5)), [])
    assert.equal(h.since(zeroUuid, id(5)), null, 'the zero uuid is no transaction')
  })

  it('drops the oldest commits past historyTxnsMax', () => {
    const h = new TxnHistory({historyTxnsMax: 2, historyBytesMax: 1 << 30})
    for (let n = 1; n <= 4000; n++) h.push(id(n), commit(id(n), 1))
    assert.equal(h.length, 2)
    assert.deepEqual(h.since(id(3998), id(4000))?.map((e) => e.txnId), [id(3999), id(4000)])
    assert.equal(h.since(id(3997), id(4000)), null)
  })

  it('refuses to place a client at an id that names two commits', () => {
    const h = new TxnHistory({historyTxnsMax: 100, historyBytesMax: 1 << 30})
    h.reset(id(0))
    h.push(id(1), commit(id(1), 1))
    h.push(id(2), commit(id(2), 1))
    h.push(id(1), commit(id(3), 1))
    assert.equal(h.since(id(1), id(1)), null)
    assert.deepEqual(h.since(id(0), id(1))?.length, 3)
  })
})
