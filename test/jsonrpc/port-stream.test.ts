/**
 * A byte stream over a MessagePort (the link between db-serve's database thread and its I/O threads): bytes and
 * text arrive in order, the end of the stream arrives, and a writer whose reader does not read is held at the
 * window, as a socket whose peer does not read, until the reader catches up.
 */
import assert from 'node:assert/strict'
import {once} from 'node:events'
import {MessageChannel} from 'node:worker_threads'
import {PortStream} from '../../src/core/jsonrpc/port-stream.js'

describe('PortStream', () => {
  it('carries strings and bytes in order, then the end of the stream', async () => {
    const {port1, port2} = new MessageChannel()
    const a = new PortStream(port1)
    const b = new PortStream(port2)
    const got: Buffer[] = []
    b.on('data', (chunk: Buffer) => got.push(chunk))
    a.write('{"id":1}')
    a.write(Buffer.from('{"id":"é"}'))
    a.end()
    await once(b, 'end')
    assert.equal(Buffer.concat(got).toString(), '{"id":1}{"id":"é"}')
    assert.equal(b.bytesRead, Buffer.byteLength('{"id":1}{"id":"é"}'))
    a.destroy()
    b.destroy()
  })

  it('holds a writer past the window while the reader does not read, and drains once it does', async () => {
    const {port1, port2} = new MessageChannel()
    const windowUnits = 1000
    const writer = new PortStream(port1, windowUnits)
    const chunk = 'x'.repeat(1000)
    const accepted = Array.from({length: 20}, () => writer.write(chunk))
    // Nothing reads port2 yet: the second write goes past the window and is held, the others queue behind it
    // beyond the stream's high-water mark (16 KiB), as behind a socket whose peer does not read.
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(accepted.at(-1), false)
    assert.ok(writer.writableNeedDrain, `writableNeedDrain with ${writer.writableLength} units queued`)
    assert.equal(writer.writableLength, 19_000, "the held write and the 18 behind it")
    const drained = once(writer, 'drain')
    const reader = new PortStream(port2, windowUnits)
    let read = 0
    reader.on('data', (c: Buffer) => (read += c.length))
    await drained
    assert.equal(writer.writableNeedDrain, false)
    assert.equal(read, 20_000)
    writer.destroy()
    reader.destroy()
  })
})
