/**
 * Binary form of digest messages (then base64 for JSON-RPC). Every message has the same 36-byte header and an
 * 8-byte trailer, all integers big-endian:
 *
 *   0 magic "OD" · 2 version · 3 kind (1 estimator, 2 table, 3 digest list) · 4 fingerprint (8, schema and
 *   condition) · 12 salt id (4) · 16 k · 17 checksum bits of the cells (32 or 16) · 18 strata · 19 zero ·
 *   20 size (cells per sub-table, or digests in a list) · 24 set summary (count, sumA, sumB) · 36 payload ·
 *   end−8 SipHash-2-4 (all-zero key) of everything before it.
 *
 * Table cells are 13 bytes (count mod 256, keySum 64 bits, hashSum 32 bits), or 11 with a 16-bit hashSum; estimator cells 5 bytes (count mod
 * 256, 16-bit keySum, 16-bit hashSum). The decoder checks everything before it allocates or trusts a field:
 * length, magic, version, checksum, kind, fingerprint, salt, shape, then size, and refuses with DigestDecodeError.
 */
import {DigestDecodeError} from './errors.js'
import {Iblt, ibltSubCellsMax} from './iblt.js'
import {fingerprint as unkeyedHash} from './row-digest.js'
import type {Digest} from './siphash.js'
import {StrataEstimator, type StrataShape} from './strata.js'
import type {SetSummary} from './summary.js'

/** Format version written and the only one read. */
export const wireVersion = 1

/** Bytes of header plus trailer. */
export const wireOverheadBytes = 44

const headerBytes = 36
const kinds = {estimator: 1, table: 2, list: 3} as const
type Kind = keyof typeof kinds

/** Who built a message, for what, and the summary of the set it describes. */
export interface DigestHeader {
  /** Fingerprint of the schema and monitored condition: both sides must be reconciling the same thing. */
  readonly fingerprint: Digest
  /** Which salt keyed the row digests (the salt itself is never sent here). */
  readonly saltId: number
  /** Summary of the sender's set. */
  readonly summary: SetSummary
}

/** What the receiver requires of a message; anything else is refused. */
export interface DigestExpectation {
  readonly fingerprint: Digest
  readonly saltId: number
}

interface Layout {
  kind: Kind
  k: number
  hashBits: 32 | 16
  strata: number
  size: number
  payloadBytes: number
}

function writeMessage(layout: Layout, header: DigestHeader, fill: (view: DataView, at: number) => void): Uint8Array {
  const bytes = new Uint8Array(headerBytes + layout.payloadBytes + 8)
  const view = new DataView(bytes.buffer)
  bytes[0] = 0x4f
  bytes[1] = 0x44
  bytes[2] = wireVersion
  bytes[3] = kinds[layout.kind]
  view.setUint32(4, header.fingerprint.hi)
  view.setUint32(8, header.fingerprint.lo)
  view.setUint32(12, header.saltId >>> 0)
  bytes[16] = layout.k
  bytes[17] = layout.hashBits
  bytes[18] = layout.strata
  view.setUint32(20, layout.size)
  view.setUint32(24, header.summary.count >>> 0)
  view.setUint32(28, header.summary.sumA >>> 0)
  view.setUint32(32, header.summary.sumB >>> 0)
  fill(view, headerBytes)
  const end = bytes.length - 8
  const check = unkeyedHash(bytes.subarray(0, end))
  view.setUint32(end, check.hi)
  view.setUint32(end + 4, check.lo)
  return bytes
}

interface Received {
  view: DataView
  k: number
  hashBits: number
  strata: number
  size: number
  summary: SetSummary
  payloadBytes: number
}

function readMessage(bytes: Uint8Array, kind: Kind, expect: DigestExpectation): Received {
  if (bytes.length < wireOverheadBytes) {
    throw new DigestDecodeError('truncated', `${bytes.length} bytes is shorter than the ${wireOverheadBytes}-byte header`)
  }
  if (bytes[0] !== 0x4f || bytes[1] !== 0x44) throw new DigestDecodeError('magic', `magic ${bytes[0]},${bytes[1]} is not "OD"`)
  if (bytes[2] !== wireVersion) throw new DigestDecodeError('version', `version ${bytes[2]} read, only ${wireVersion} known`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const end = bytes.length - 8
  const check = unkeyedHash(bytes.subarray(0, end))
  if (view.getUint32(end) !== check.hi || view.getUint32(end + 4) !== check.lo) {
    throw new DigestDecodeError('checksum', `checksum of ${bytes.length} bytes does not match: corrupted in transit`)
  }
  if (bytes[3] !== kinds[kind]) throw new DigestDecodeError('kind', `message kind ${bytes[3]} is not ${kind} (${kinds[kind]})`)
  const fp = {hi: view.getUint32(4), lo: view.getUint32(8)}
  if (fp.hi !== expect.fingerprint.hi || fp.lo !== expect.fingerprint.lo) {
    throw new DigestDecodeError('fingerprint', `fingerprint ${hex(fp)} is not ${hex(expect.fingerprint)}: another schema or condition`)
  }
  const saltId = view.getUint32(12)
  if (saltId !== expect.saltId >>> 0) throw new DigestDecodeError('salt', `salt id ${saltId} is not ${expect.saltId}`)
  const summary = {count: view.getUint32(24), sumA: view.getUint32(28), sumB: view.getUint32(32)}
  return {view, k: bytes[16], hashBits: bytes[17], strata: bytes[18], size: view.getUint32(20), summary, payloadBytes: end - headerBytes}
}

function hex(d: Digest): string {
  return `"${d.hi.toString(16).padStart(8, '0')}${d.lo.toString(16).padStart(8, '0')}"`
}

function checkPayload(received: Received, payloadBytes: number): void {
  if (received.payloadBytes !== payloadBytes) {
    throw new DigestDecodeError('truncated', `payload of ${received.payloadBytes} bytes, header says ${payloadBytes}`)
  }
}

/** Bytes of one table cell (32-bit checksums), of one compact table cell (16-bit) and of one estimator cell. */
export const tableCellBytes = 13
export const compactTableCellBytes = 11
export const estimatorCellBytes = 5

/**
 * Encodes an IBLT: cells with 32-bit checksums, or 16-bit ones when the table's hashMask is 0xffff. Compact
 * tables are what reconciliation sends (15% fewer bytes): a false pure cell then needs a 2^-16 checksum match
 * and its key to hash to that very cell, and any wrong answer still fails the set-summary check (summary.ts).
 */
export function encodeTable(table: Iblt, header: DigestHeader): Uint8Array {
  const compact = table.hashMask === 0xffff
  const cellBytes = compact ? compactTableCellBytes : tableCellBytes
  const layout: Layout = {kind: 'table', k: table.k, hashBits: compact ? 16 : 32, strata: 0, size: table.subCells, payloadBytes: table.cells * cellBytes}
  return writeMessage(layout, header, (view, at) => {
    for (let c = 0; c < table.cells; c++, at += cellBytes) {
      view.setUint8(at, table.count[c] & 0xff)
      view.setUint32(at + 1, table.keyHi[c])
      view.setUint32(at + 5, table.keyLo[c])
      if (compact) view.setUint16(at + 9, table.hash[c] & 0xffff)
      else view.setUint32(at + 9, table.hash[c])
    }
  })
}

/** What a table message must be, beyond its origin. */
export interface TableExpectation extends DigestExpectation {
  /** Hash functions of this side's tables. */
  readonly k: number
  /** Exact cells per sub-table asked for, or undefined to accept any divisor of subCellsMax. */
  readonly subCells?: number
  /** Largest table this side accepts, in cells per sub-table. */
  readonly subCellsMax: number
}

/** Decodes a table message; throws DigestDecodeError when it is not exactly what `expect` describes. */
export function decodeTable(bytes: Uint8Array, expect: TableExpectation): {table: Iblt; summary: SetSummary} {
  const r = readMessage(bytes, 'table', expect)
  if (r.k !== expect.k || (r.hashBits !== 32 && r.hashBits !== 16) || r.strata !== 0) {
    throw new DigestDecodeError('shape', `table with k = ${r.k}, ${r.hashBits}-bit checksums, strata ${r.strata}; k = ${expect.k}, 16- or 32-bit expected`)
  }
  const max = Math.min(expect.subCellsMax, ibltSubCellsMax)
  if (expect.subCells !== undefined ? r.size !== expect.subCells : r.size < 1 || max % r.size !== 0) {
    const wanted = expect.subCells !== undefined ? `${expect.subCells}` : `a divisor of ${max}`
    throw new DigestDecodeError('size', `table of ${r.size} cells per sub-table, ${wanted} expected`)
  }
  const compact = r.hashBits === 16
  const cellBytes = compact ? compactTableCellBytes : tableCellBytes
  checkPayload(r, r.k * r.size * cellBytes)
  const table = new Iblt(r.k, r.size, compact ? 0xffff : 0xffffffff)
  for (let c = 0, at = headerBytes; c < table.cells; c++, at += cellBytes) {
    table.count[c] = r.view.getUint8(at)
    table.keyHi[c] = r.view.getUint32(at + 1)
    table.keyLo[c] = r.view.getUint32(at + 5)
    table.hash[c] = compact ? r.view.getUint16(at + 9) : r.view.getUint32(at + 9)
  }
  return {table, summary: r.summary}
}

/** Encodes a strata estimator. */
export function encodeEstimator(estimator: StrataEstimator, header: DigestHeader): Uint8Array {
  const {strata, k, subCells} = estimator.shape
  const cells = k * subCells
  const layout: Layout = {kind: 'estimator', k, hashBits: 16, strata, size: subCells, payloadBytes: strata * cells * estimatorCellBytes}
  return writeMessage(layout, header, (view, at) => {
    for (const stratum of estimator.strata) {
      for (let c = 0; c < cells; c++, at += estimatorCellBytes) {
        view.setUint8(at, stratum.count[c] & 0xff)
        view.setUint16(at + 1, stratum.keyLo[c])
        view.setUint16(at + 3, stratum.hash[c] & 0xffff)
      }
    }
  })
}

/** Decodes an estimator message; it must have exactly the shape `shape`. */
export function decodeEstimator(
  bytes: Uint8Array,
  expect: DigestExpectation & {readonly shape: StrataShape},
): {estimator: StrataEstimator; summary: SetSummary} {
  const r = readMessage(bytes, 'estimator', expect)
  const {strata, k, subCells} = expect.shape
  if (r.k !== k || r.hashBits !== 16 || r.strata !== strata || r.size !== subCells) {
    throw new DigestDecodeError(
      'size',
      `estimator of ${r.strata} strata × ${r.k} × ${r.size} cells, ${strata} × ${k} × ${subCells} expected`,
    )
  }
  const cells = k * subCells
  checkPayload(r, strata * cells * estimatorCellBytes)
  const estimator = new StrataEstimator(expect.shape)
  let at = headerBytes
  for (const stratum of estimator.strata) {
    for (let c = 0; c < cells; c++, at += estimatorCellBytes) {
      stratum.count[c] = r.view.getUint8(at)
      stratum.keyLo[c] = r.view.getUint16(at + 1)
      stratum.hash[c] = r.view.getUint16(at + 3)
    }
  }
  return {estimator, summary: r.summary}
}

/** Encodes a list of digests (8 bytes each). */
export function encodeDigestList(digests: readonly Digest[], header: DigestHeader): Uint8Array {
  const layout: Layout = {kind: 'list', k: 0, hashBits: 32, strata: 0, size: digests.length, payloadBytes: digests.length * 8}
  return writeMessage(layout, header, (view, at) => {
    for (const d of digests) {
      view.setUint32(at, d.hi)
      view.setUint32(at + 4, d.lo)
      at += 8
    }
  })
}

/** Decodes a list of at most `countMax` digests. */
export function decodeDigestList(
  bytes: Uint8Array,
  expect: DigestExpectation & {readonly countMax: number},
): {digests: Digest[]; summary: SetSummary} {
  const r = readMessage(bytes, 'list', expect)
  if (r.size > expect.countMax) throw new DigestDecodeError('size', `list of ${r.size} digests, at most ${expect.countMax} expected`)
  checkPayload(r, r.size * 8)
  const digests: Digest[] = []
  for (let i = 0, at = headerBytes; i < r.size; i++, at += 8) digests.push({hi: r.view.getUint32(at), lo: r.view.getUint32(at + 4)})
  return {digests, summary: r.summary}
}
