import assert from 'node:assert/strict'
import {Progress, formatBytes} from '../../src/core/cli/progress.js'

function fakeStream(isTTY: boolean) {
  const writes: string[] = []
  return {writes, stream: {isTTY, write: (s: string) => writes.push(s)}}
}

describe('progress', () => {
  it('draws nothing at all when stderr is not a terminal', () => {
    const {writes, stream} = fakeStream(false)
    const p = new Progress({stream, label: 'Loading', total: 10})
    for (let i = 0; i < 10; i++) p.tick()
    p.end()
    assert.deepEqual(writes, [])
  })

  it('redraws at most once per interval, on one line', () => {
    let now = 0
    const {writes, stream} = fakeStream(true)
    const p = new Progress({stream, label: 'Loading', total: 200, unit: 'rows', now: () => now, redrawIntervalMs: 100})
    for (let i = 0; i < 200; i++) {
      now += 5
      p.tick()
    }
    // 1000 ms of ticks every 5 ms: one draw per 100 ms.
    assert.equal(writes.length, 10, `writes: ${JSON.stringify(writes)}`)
    assert.ok(writes.every((w) => w.startsWith('\r') && w.endsWith('\x1b[K') && !w.includes('\n')), JSON.stringify(writes))
    p.end()
    assert.equal(writes.at(-1), '\r\x1b[K', 'end erases the line')
  })

  it('shows count, total, percentage and rate', () => {
    let now = 0
    const {stream} = fakeStream(true)
    const p = new Progress({stream, label: 'Recompute', total: 400, unit: 'flows', now: () => now})
    p.update(100)
    assert.equal(p.text(), 'Recompute: 100/400 (25%) flows')
    now = 2000
    assert.equal(p.text(), 'Recompute: 100/400 (25%) flows, 50/s')
  })

  it('shows bytes with binary units and a byte rate', () => {
    let now = 0
    const {stream} = fakeStream(true)
    const p = new Progress({stream, label: 'Snapshot', total: 10 * 1024 * 1024, unit: 'bytes', now: () => now})
    p.update(3 * 1024 * 1024)
    now = 1000
    assert.equal(p.text(), 'Snapshot: 3.0 MiB/10.0 MiB (30%), 3.0 MiB/s')
    assert.equal(formatBytes(512), '512 B')
    assert.equal(formatBytes(1536), '1.5 KiB')
  })

  it('leaves nothing to erase if it never drew', () => {
    const {writes, stream} = fakeStream(true)
    new Progress({stream, label: 'x'}).end()
    assert.deepEqual(writes, [])
  })
})
