import assert from 'node:assert/strict'
import net from 'node:net'
import {Harness} from './harness.js'

describe('inactivity probes', () => {
  it('sends "echo" to an idle client and drops it when no answer comes', async function () {
    this.timeout(10000)
    const h = await new Harness({limits: {probeIntervalMs: 200}}).start()
    // The harness listens on punix:, where probes are off by default as in ovsdb-server; serve one TCP client.
    const listener = await h.server.listen('ptcp:0:127.0.0.1')
    try {
      const socket = net.connect(listener.port!, '127.0.0.1')
      let received = ''
      const closed = new Promise<number>((resolve) => {
        const start = Date.now()
        socket.on('close', () => resolve(Date.now() - start))
      })
      socket.on('data', (d) => (received += d))
      socket.on('error', () => {})
      const elapsed = await closed
      assert.match(received, /"method":"echo"/)
      assert.ok(elapsed >= 300 && elapsed < 3000, `dropped after ${elapsed} ms, expected about two probe intervals`)
    } finally {
      await listener.close()
      await h.stop()
    }
  })

  it('keeps a client that answers its probes', async function () {
    this.timeout(10000)
    const h = await new Harness({limits: {probeIntervalMs: 200}}).start()
    const listener = await h.server.listen('ptcp:0:127.0.0.1')
    try {
      const socket = net.connect(listener.port!, '127.0.0.1')
      let closed = false
      socket.on('close', () => (closed = true))
      socket.on('data', (d) => {
        for (const m of String(d).match(/\{"id":\d+,"method":"echo"[^}]*\}/g) ?? []) {
          socket.write(JSON.stringify({id: JSON.parse(m).id, result: [], error: null}))
        }
      })
      await new Promise((r) => setTimeout(r, 1200))
      assert.equal(closed, false)
      socket.destroy()
    } finally {
      await listener.close()
      await h.stop()
    }
  })
})
