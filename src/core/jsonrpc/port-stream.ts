/**
 * A byte stream over a worker_threads MessagePort, so that a JsonRpcConnection runs between two threads of one
 * process as it runs over a socket: the main (database) thread serves an I/O thread's relay link as one more
 * client, and sends it each commit's update serialized once. A string written crosses as a string (copied
 * once, the cheapest message a port carries), bytes as a copy of their bytes; the end of the stream is a
 * message of its own; closing the port closes it.
 */
import {Duplex} from 'node:stream'
import type {MessagePort} from 'node:worker_threads'

/** What crosses the port: a chunk of bytes, or the writer's end of the stream. */
type PortMessage = string | Uint8Array | {end: true}

/** A Duplex over a MessagePort, with the few socket members JsonRpcConnection and the relay link read. */
export class PortStream extends Duplex {
  /** Bytes received so far (as net.Socket counts them). */
  bytesRead = 0
  /** The peer is in this process: writes never wait on a kernel buffer. */
  readonly remoteAddress = undefined

  constructor(private readonly port: MessagePort) {
    // Strings reach _write as strings (decodeStrings: false): no encoding on this side.
    super({allowHalfOpen: false, decodeStrings: false})
    port.on('message', (message: PortMessage) => this.receive(message))
    port.on('close', () => this.destroy())
  }

  private receive(message: PortMessage): void {
    if (typeof message === 'string') {
      const bytes = Buffer.from(message)
      this.bytesRead += bytes.length
      this.push(bytes)
    } else if (message instanceof Uint8Array) {
      this.bytesRead += message.length
      this.push(Buffer.from(message.buffer, message.byteOffset, message.length))
    } else if (message.end) {
      this.push(null)
    }
  }

  /** No Nagle to turn off: present because JsonRpcConnection calls it on sockets. */
  setNoDelay(): this {
    return this
  }

  override _read(): void {
    // Messages are pushed as they arrive; a port has no flow control to resume.
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    // A Buffer may view a shared pool: post a copy of its own bytes only, not the whole pool.
    this.port.postMessage(typeof chunk === 'string' ? chunk : new Uint8Array(chunk))
    done()
  }

  override _final(done: (err?: Error | null) => void): void {
    this.port.postMessage({end: true})
    done()
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.port.close()
    done(err)
  }
}
