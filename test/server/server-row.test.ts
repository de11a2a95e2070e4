import assert from 'node:assert/strict'
import {ServerRowPublisher, serverIndexDelayMs} from '../../src/core/server/server-row.js'
import type {DbStatus} from '../../src/core/server/server.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('_Server row publisher (clustered databases)', () => {
  let status: DbStatus
  let published: DbStatus[]
  let row: ServerRowPublisher
  beforeEach(() => {
    status = {connected: true, leader: false, sid: 's', cid: 'c', index: 1}
    published = []
    row = new ServerRowPublisher(() => ({...status}), (st) => published.push(st))
  })
  afterEach(() => row.close())

  it('publishes nothing in the turn of the change, so that the replies of that turn leave first', async () => {
    row.changed()
    assert.equal(published.length, 0)
    await sleep(5)
    assert.deepEqual(published, [status])
  })

  it('publishes many commits (index changes) within the delay as one update carrying the last index', async () => {
    row.changed()
    await sleep(5)
    for (let i = 2; i <= 50; i++) {
      status.index = i
      row.changed()
    }
    await sleep(serverIndexDelayMs * 3)
    assert.equal(published.length, 2)
    assert.equal(published[1].index, 50)
  })

  it('publishes a new leader at once even while an index update waits', async () => {
    row.changed()
    await sleep(5)
    status.index = 2
    row.changed()
    status.leader = true
    row.changed()
    await sleep(2)
    assert.equal(published.length, 2)
    assert.equal(published[1].leader, true)
    assert.equal(published[1].index, 2)
  })

  it('publishes nothing when nothing changed, and nothing after close', async () => {
    row.changed()
    await sleep(5)
    row.changed()
    status.leader = true
    row.changed()
    row.close()
    await sleep(serverIndexDelayMs * 2)
    assert.equal(published.length, 1)
  })
})
