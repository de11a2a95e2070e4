/**
 * A byte stream over a worker_threads MessagePort, so that a JsonRpcConnection runs between two threads of one
 * process as it runs over a socket: the main (database) thread serves an I/O thread's relay link as one more
 * client, and sends it each commit's update serialized once. A string written crosses as a string (copied
 * once, the cheapest message a port carries), bytes as a copy of their bytes; the end of the stream is a
 * message of its own; closing the port closes it.
 *
 * A port has no flow control of its own: a thread that stops reading would let the other queue without bound.
 * So the reader acknowledges what it took, and the writer holds its write callbacks while more than
 * portWindowUnits are unacknowledged: the stream then reports a backlog (writableNeedDrain) as a socket whose
 * peer does not read, and its owner merges or drops as it does for such a socket.
 */
import {Duplex} from 'node:stream'
import type {MessagePort} from 'node:worker_threads'

/**
 * Units (string length or bytes) written and not yet acknowledged by the reader before writes wait; the reader
 * acknowledges each quarter of it, so that acknowledgements cost a message per several commits, not per commit.
 */
export const portWindowUnits = 8 * 1024 * 1024

/** What crosses the port: a chunk of text or bytes, an acknowledgement of what was taken, or the end of the stream. */
type PortMessage = string | Uint8Array | {end: true} | {ack: number}

/** A Duplex over a MessagePort, with the few socket members JsonRpcConnection and the relay link read. */
export class PortStream extends Duplex {
  /** Bytes received so far (as net.Socket counts them). */
  bytesRead = 0
  /** The peer is in this process. */
  readonly remoteAddress = undefined
  /** Units posted and not yet acknowledged. */
  private unacknowledged = 0
  /** Units taken and not yet acknowledged to the writer. */
  private toAcknowledge = 0
  /** The callback of the write that went past the window, called once the reader catches up. */
  private held: (() => void) | null = null

  constructor(
    private readonly port: MessagePort,
    private readonly windowUnits = portWindowUnits,
  ) {
    // Strings reach _write as strings (decodeStrings: false): no encoding on this side.
    super({allowHalfOpen: false, decodeStrings: false})
    port.on('message', (message: PortMessage) => this.receive(message))
    port.on('close', () => this.destroy())
  }

  private receive(message: PortMessage): void {
    if (typeof message === 'string' || message instanceof Uint8Array) {
      const bytes = typeof message === 'string' ? Buffer.from(message) : Buffer.from(message.buffer, message.byteOffset, message.length)
      this.bytesRead += bytes.length
      // In flowing mode the consumer (JsonRpcConnection) has handled the chunk when push returns.
      this.push(bytes)
      this.acknowledge(message.length)
    } else if ('ack' in message) {
      this.unacknowledged -= message.ack
      if (this.held !== null && this.unacknowledged <= this.windowUnits) {
        const held = this.held
        this.held = null
        held()
      }
    } else if (message.end) {
      this.push(null)
    }
  }

  private acknowledge(units: number): void {
    this.toAcknowledge += units
    if (this.toAcknowledge < this.windowUnits / 4) return
    this.port.postMessage({ack: this.toAcknowledge} satisfies PortMessage)
    this.toAcknowledge = 0
  }

  /** No Nagle to turn off: present because JsonRpcConnection calls it on sockets. */
  setNoDelay(): this {
    return this
  }

  override _read(): void {
    // Messages are pushed as they arrive; the writer is paced by acknowledgements instead.
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    // A Buffer may view a shared pool: post a copy of its own bytes only, not the whole pool.
    const message = typeof chunk === 'string' ? chunk : new Uint8Array(chunk)
    this.port.postMessage(message)
    this.unacknowledged += message.length
    if (this.unacknowledged <= this.windowUnits) done()
    else this.held = () => done()
  }

  override _final(done: (err?: Error | null) => void): void {
    this.port.postMessage({end: true} satisfies PortMessage)
    done()
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.held = null
    this.port.close()
    done(err)
  }
}
