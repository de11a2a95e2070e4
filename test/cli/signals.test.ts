import assert from 'node:assert/strict'
import {Shutdown} from '../../src/core/cli/signals.js'

describe('shutdown on signals', () => {
  it('aborts the signal, runs hooks newest first, then exits 130 on SIGINT', async () => {
    const events: string[] = []
    const s = new Shutdown({exit: (code) => void events.push(`exit ${code}`), note: (m) => events.push(m)})
    s.add(() => events.push('close listener'))
    s.add(async () => events.push('remove pidfile'))
    await s.stop('SIGINT')
    assert.ok(s.signal.aborted && (s.signal.reason as Error).name === 'AbortError', 'signal aborted with an AbortError')
    assert.deepEqual(events, ['remove pidfile', 'close listener', 'exit 130'])
  })

  it('exits 143 on SIGTERM unless told it is the normal stop (daemons: 0)', async () => {
    const codes: number[] = []
    const s = new Shutdown({exit: (c) => void codes.push(c)})
    await s.stop('SIGTERM')
    const d = new Shutdown({exit: (c) => void codes.push(c)})
    d.exitCodes.SIGTERM = 0
    await d.stop('SIGTERM')
    assert.deepEqual(codes, [143, 0])
  })

  it('carries on past a failing or hanging hook, saying so', async () => {
    const events: string[] = []
    const s = new Shutdown({exit: (c) => void events.push(`exit ${c}`), note: (m) => events.push(m), graceMs: 10})
    s.add(() => events.push('last'))
    s.add(() => new Promise(() => {}))
    s.add(() => {
      throw new Error('disk gone')
    })
    await s.stop('SIGINT')
    assert.deepEqual(events, ['Shutdown step failed: disk gone', 'Shutdown step did not finish: gave up after 10 ms', 'last', 'exit 130'])
  })

  it('exits at once on a second signal', async () => {
    const codes: number[] = []
    const s = new Shutdown({exit: (c) => void codes.push(c), graceMs: 50})
    s.add(() => new Promise((r) => setTimeout(r, 20)))
    const first = s.stop('SIGINT')
    await s.stop('SIGINT')
    assert.deepEqual(codes, [130], 'the second signal exits before the hook finishes')
    await first
  })

  it('forgets a hook that was removed', async () => {
    const events: string[] = []
    const s = new Shutdown({exit: () => {}})
    const remove = s.add(() => events.push('gone'))
    remove()
    await s.stop('SIGINT')
    assert.deepEqual(events, [])
  })
})
