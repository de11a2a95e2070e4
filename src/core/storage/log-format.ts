/**
 * The record format of OVSDB database files (ovsdb(5) "Common Format"): each record is two lines,
 *   `OVSDB <magic> <length> <sha1-hex>\n` then `<json>\n`,
 * where <length> counts the bytes of the second line INCLUDING its LF and <sha1-hex> is the SHA-1 of those same
 * bytes (verified against files written by `ovsdb-tool create` and `ovsdb-server` 3.1). This module is pure: no
 * I/O, and the SHA-1 function is passed in by the caller (see `Sha1`).
 */

/** Computes the SHA-1 of `data` as 40 lowercase hex digits; injected so that this module stays free of I/O. */
export type Sha1 = (data: Uint8Array) => string

/** Magic word of standalone database files (ovsdb(5) "Standalone Format"). */
export const magicStandalone = 'JSON'
/** Magic word of clustered database files (ovsdb(5) "Clustered Format"); recognised, not yet supported. */
export const magicClustered = 'CLUSTER'

/**
 * Longest header line accepted, in bytes, LF included. A valid header is at most 76 bytes
 * ("OVSDB CLUSTER " + 20 digits + " " + 40 hex digits + LF); a longer line without LF is garbage, not a torn header.
 */
export const headerBytesMax = 128

/** Named bounds of the decoder. */
export interface LogFormatLimits {
  /** Largest record body (the JSON line, LF included) accepted, in bytes. */
  recordBytesMax: number
}

/** Default: 256 MiB, the same bound as one JSON-RPC message, since a snapshot record holds a whole database. */
export const defaultLogFormatLimits: LogFormatLimits = {recordBytesMax: 256 * 1024 * 1024}

/** One record read from a buffer: `offset` of its header, `length` of header plus body in bytes, parsed JSON. */
export interface DecodedRecord {
  offset: number
  length: number
  json: Record<string, unknown>
  /** The SHA-1 of the body, as its header states it (lowercase hex). */
  sha1: string
}

/**
 * Why decoding stopped before the end of the buffer. 'short header' and 'length beyond EOF' are what a crash
 * in the middle of a write leaves (a torn tail); the others mean the bytes are not a record at all.
 */
export type DecodeStopReason =
  | 'short header'
  | 'bad header'
  | 'bad magic'
  | 'length beyond EOF'
  | 'record too large'
  | 'SHA-1 mismatch'
  | 'invalid JSON'

/** Where and why decoding stopped; `offset` is the end of the valid prefix (the start of the bad record). */
export interface DecodeStop {
  offset: number
  reason: DecodeStopReason
  detail: string
}

/** Result of one decoding step: a record, the clean end of the buffer, or a stop. */
export type DecodeStep =
  | {kind: 'record'; record: DecodedRecord}
  | {kind: 'end'}
  | {kind: 'stop'; stop: DecodeStop}

/** Result of decoding a whole buffer: the records of the valid prefix, its length, and why it ended early. */
export interface DecodedLog {
  records: DecodedRecord[]
  validBytes: number
  stop: DecodeStop | null
}

const LF = 0x0a
const sha1HexDigits = 40
const headerPattern = /^OVSDB (\S+) ([1-9][0-9]*) ([0-9a-fA-F]{40})$/

/**
 * Encodes one record with the given magic. JSON.stringify escapes LF inside strings as `\n` and adds no
 * whitespace, so the body is one line, as ovsdb(5) requires of writers.
 */
export function encodeRecord(
  json: object,
  sha1: Sha1,
  opts: {magic?: string; limits?: LogFormatLimits} = {},
): Buffer {
  const limits = opts.limits ?? defaultLogFormatLimits
  const text = JSON.stringify(json)
  if (text === undefined || typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new TypeError(`Cannot encode record ${String(text)}: a record must be a JSON object (ovsdb(5))`)
  }
  const textBytes = Buffer.byteLength(text, 'utf8')
  const bodyBytes = textBytes + 1
  if (bodyBytes > limits.recordBytesMax) {
    throw new RangeError(`Cannot encode record of ${bodyBytes} bytes: recordBytesMax=${limits.recordBytesMax}`)
  }
  // One buffer: the body is written once, behind room for the header, which goes in front once the body's
  // SHA-1 is known (no second copy of the body, as concatenating header and body would make).
  const headerHead = `OVSDB ${opts.magic ?? magicStandalone} ${bodyBytes} `
  const headerBytes = headerHead.length + sha1HexDigits + 1
  const out = Buffer.allocUnsafe(headerBytes + bodyBytes)
  out.write(text, headerBytes, textBytes, 'utf8')
  out[headerBytes + textBytes] = LF
  const digest = sha1(out.subarray(headerBytes))
  if (digest.length !== sha1HexDigits) throw new TypeError(`Cannot encode record: SHA-1 ${quote(digest)} is not 40 hex digits`)
  out.write(headerHead + digest + '\n', 0, headerBytes, 'latin1')
  return out
}

/** The SHA-1 (hex) an encoded record's header states. */
export function encodedRecordSha1(encoded: Uint8Array): string {
  const end = indexOfLf(encoded, 0, Math.min(encoded.length, headerBytesMax))
  const match = end < 0 ? null : headerPattern.exec(Buffer.from(encoded.subarray(0, end)).toString('latin1'))
  if (match === null) throw new TypeError('assertion failed: not an encoded record')
  return match[3].toLowerCase()
}

/** The magic word of the first header of `buf` (e.g. 'JSON' or 'CLUSTER'), or null if there is no header line. */
export function fileMagic(buf: Uint8Array): string | null {
  const end = indexOfLf(buf, 0, Math.min(buf.length, headerBytesMax))
  if (end < 0) return null
  const match = headerPattern.exec(Buffer.from(buf.subarray(0, end)).toString('latin1'))
  return match ? match[1] : null
}

/**
 * Decodes the record whose header starts at `offset`. This is the incremental step: call it again at
 * `offset + record.length` until it returns 'end' or 'stop'.
 */
export function decodeRecordAt(
  buf: Uint8Array,
  offset: number,
  sha1: Sha1,
  opts: {magic?: string; limits?: LogFormatLimits} = {},
): DecodeStep {
  const limits = opts.limits ?? defaultLogFormatLimits
  const magic = opts.magic ?? magicStandalone
  if (offset === buf.length) return {kind: 'end'}
  const stop = (reason: DecodeStopReason, detail: string): DecodeStep => ({kind: 'stop', stop: {offset, reason, detail}})
  const headerEnd = indexOfLf(buf, offset, Math.min(buf.length, offset + headerBytesMax))
  if (headerEnd < 0) {
    const partial = Buffer.from(buf.subarray(offset, Math.min(buf.length, offset + headerBytesMax))).toString('latin1')
    const torn = buf.length - offset < headerBytesMax && isHeaderPrefix(partial)
    return torn
      ? stop('short header', `${buf.length - offset} bytes of header without LF at end of file`)
      : stop('bad header', `no header line in ${quote(partial)}`)
  }
  const line = Buffer.from(buf.subarray(offset, headerEnd)).toString('latin1')
  const match = headerPattern.exec(line)
  if (!match) return stop('bad header', `header line ${quote(line)} is not "OVSDB <magic> <length> <sha1>"`)
  if (match[1] !== magic) return stop('bad magic', `magic "${match[1]}" where "${magic}" was expected`)
  const length = Number(match[2])
  if (length > limits.recordBytesMax) {
    return stop('record too large', `record of ${length} bytes: recordBytesMax=${limits.recordBytesMax}`)
  }
  const bodyStart = headerEnd + 1
  if (bodyStart + length > buf.length) {
    return stop('length beyond EOF', `record needs ${length} bytes, ${buf.length - bodyStart} remain`)
  }
  const body = buf.subarray(bodyStart, bodyStart + length)
  const actual = sha1(body)
  if (actual !== match[3].toLowerCase()) return stop('SHA-1 mismatch', `header says ${match[3]}, body hashes to ${actual}`)
  let json: unknown
  try {
    json = JSON.parse(Buffer.from(body).toString('utf8'))
  } catch (err) {
    return stop('invalid JSON', (err as Error).message)
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return stop('invalid JSON', 'record is not a JSON object (ovsdb(5))')
  }
  return {kind: 'record', record: {offset, length: bodyStart + length - offset, json: json as Record<string, unknown>, sha1: actual}}
}

/** Decodes every record of `buf` from the start, stopping at the first torn or corrupt one. */
export function decodeLog(buf: Uint8Array, sha1: Sha1, opts: {magic?: string; limits?: LogFormatLimits} = {}): DecodedLog {
  const records: DecodedRecord[] = []
  let offset = 0
  for (;;) {
    const step = decodeRecordAt(buf, offset, sha1, opts)
    if (step.kind === 'end') return {records, validBytes: offset, stop: null}
    if (step.kind === 'stop') return {records, validBytes: offset, stop: step.stop}
    records.push(step.record)
    offset += step.record.length
  }
}

/** True if `text` can be completed into a valid header line: what a write cut short inside the header leaves. */
export function isHeaderPrefix(text: string): boolean {
  const lead = 'OVSDB '
  if (text.length <= lead.length) return lead.startsWith(text)
  if (!text.startsWith(lead)) return false
  const rest = text.slice(lead.length)
  const space = rest.indexOf(' ')
  if (space < 0) return /^[A-Z]*$/.test(rest)
  return /^[A-Z]+$/.test(rest.slice(0, space)) && /^[0-9]*( [0-9a-fA-F]{0,40})?$/.test(rest.slice(space + 1))
}

function indexOfLf(buf: Uint8Array, from: number, to: number): number {
  for (let i = from; i < to; i++) if (buf[i] === LF) return i
  return -1
}

function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? text.slice(0, 60) + '...' : text)
}
