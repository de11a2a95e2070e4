/**
 * Splitting a byte stream into JSON values, as OVSDB's JSON-RPC 1.0 uses it: values are sent back to back with
 * no length prefix or delimiter (RFC 7047 §4), so the only way to find where one ends is to follow the JSON
 * structure. The splitter tracks nesting outside strings and hands each complete top-level value to JSON.parse.
 */

/** Why the stream could not be split; the connection must be closed because framing is lost. */
export class FramingError extends Error {
  /** The values the same chunk completed before framing was lost: still to be handled, in order. */
  before: unknown[] = []

  constructor(message: string) {
    super(message)
    this.name = 'FramingError'
  }
}

/**
 * A complete value whose text is not valid JSON. Framing is intact (its end was found), so the connection can
 * answer with an error and carry on; the splitter returns this in place of the value.
 */
export class JsonSyntaxError {
  constructor(readonly message: string) {}
}

/** Named bounds on what one peer may send. */
export interface FramingLimits {
  /** Largest single JSON value accepted, in bytes. */
  messageBytesMax: number
  /** Deepest nesting of arrays and objects accepted. */
  depthMax: number
}

const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const QUOTE = 0x22
const BACKSLASH = 0x5c

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09
}

/**
 * Incremental splitter: feed it chunks, it returns the complete values found so far. Only objects and arrays
 * may be top-level values (JSON-RPC messages are objects; a bare scalar is a framing error since its end
 * cannot be found without a delimiter).
 */
export class JsonSplitter {
  private pending: Buffer[] = []
  private pendingBytes = 0
  private depth = 0
  /** The opening bracket of each open level, to catch `[}` at once instead of waiting for a balance. */
  private readonly opened: Uint8Array
  private inString = false
  private escaped = false
  private started = false

  constructor(private readonly limits: FramingLimits) {
    this.opened = new Uint8Array(limits.depthMax + 1)
  }

  /** Bytes held for a value not yet complete. */
  get bufferedBytes(): number {
    return this.pendingBytes
  }

  /**
   * Feeds one chunk; returns the parsed values it completed (a JsonSyntaxError in place of a value that is not
   * valid JSON). Throws FramingError when framing is lost.
   */
  push(chunk: Buffer): unknown[] {
    const values: unknown[] = []
    try {
      this.scan(chunk, values)
    } catch (err) {
      if (err instanceof FramingError) err.before = values
      throw err
    }
    return values
  }

  private scan(chunk: Buffer, values: unknown[]): void {
    let start = 0
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]
      if (this.inString) {
        if (this.escaped) this.escaped = false
        else if (byte === BACKSLASH) this.escaped = true
        else if (byte === QUOTE) this.inString = false
        continue
      }
      if (!this.started) {
        if (isSpace(byte)) {
          start = i + 1
          continue
        }
        if (byte !== OPEN_BRACE && byte !== OPEN_BRACKET) {
          throw new FramingError(`Invalid JSON-RPC stream: unexpected ${describeByte(byte)} where a message should start`)
        }
        this.started = true
      }
      if (byte === QUOTE) this.inString = true
      else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        if (++this.depth > this.limits.depthMax) {
          throw new FramingError(`Invalid JSON-RPC message: nesting deeper than depthMax=${this.limits.depthMax}`)
        }
        this.opened[this.depth] = byte
      } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        if (this.opened[this.depth] !== (byte === CLOSE_BRACE ? OPEN_BRACE : OPEN_BRACKET)) {
          throw new FramingError(`Invalid JSON in JSON-RPC message: unexpected ${describeByte(byte)}`)
        }
        if (--this.depth === 0) {
          values.push(this.complete(chunk, start, i + 1))
          start = i + 1
        }
      }
    }
    if (this.started && start < chunk.length) this.hold(chunk.subarray(start))
  }

  private hold(part: Buffer): void {
    this.pendingBytes += part.length
    if (this.pendingBytes > this.limits.messageBytesMax) {
      throw new FramingError(`Invalid JSON-RPC message: larger than messageBytesMax=${this.limits.messageBytesMax} bytes`)
    }
    this.pending.push(part)
  }

  private complete(chunk: Buffer, start: number, end: number): unknown {
    let text: string
    const size = this.pendingBytes + (end - start)
    if (size > this.limits.messageBytesMax) {
      throw new FramingError(`Invalid JSON-RPC message: larger than messageBytesMax=${this.limits.messageBytesMax} bytes`)
    }
    if (this.pending.length === 0) text = chunk.toString('utf8', start, end)
    else {
      this.pending.push(chunk.subarray(start, end))
      text = Buffer.concat(this.pending).toString('utf8')
      this.pending = []
      this.pendingBytes = 0
    }
    this.started = false
    try {
      return JSON.parse(text)
    } catch (err) {
      return new JsonSyntaxError(`Invalid JSON in JSON-RPC message: ${(err as Error).message}`)
    }
  }
}

function describeByte(byte: number): string {
  if (byte >= 0x20 && byte < 0x7f) return `"${String.fromCharCode(byte)}"`
  return `byte 0x${byte.toString(16).padStart(2, '0')}`
}
