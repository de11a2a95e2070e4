/**
 * The canonical encoding of a monitored row and the fingerprint of a monitored shape, shared by the server
 * (which digests rows as they commit) and the client (which digests its replica): both must produce the same
 * bytes for the same row, or every row would look different. Values are the OVSDB JSON of RFC 7047 §5.1,
 * whose sets and maps the data model keeps in canonical order, so equal datums give equal text.
 */
import {fingerprint, rowDigest, type Digest, type SipKey} from './row-digest.js'
import {sipHash24, sipKey} from './siphash.js'

/** One table of a monitored shape: its name, the columns monitored and the "where" sent (null: every row). */
export interface ShapeTable {
  readonly name: string
  readonly columns: readonly string[]
  readonly where: unknown
}

/** Column names in the order rows are encoded: sorted, so the order the client listed them does not matter. */
export function encodingOrder(columns: readonly string[]): string[] {
  return [...new Set(columns)].sort()
}

/** The id of a row inside a digest set: its table and UUID. */
export function rowIdOf(table: string, uuid: string): string {
  return `${table}/${uuid}`
}

/** Splits a row id back into table and UUID. */
export function splitRowId(rowId: string): {table: string; uuid: string} {
  const at = rowId.lastIndexOf('/')
  return {table: rowId.slice(0, at), uuid: rowId.slice(at + 1)}
}

/** The canonical text of a row: table, UUID and the JSON values of its columns in `encodingOrder`. */
export function rowEncoding(table: string, uuid: string, values: readonly unknown[]): string {
  return `${table}\u0000${uuid}\u0000${JSON.stringify(values)}`
}

/** The digest of a row under `salt`, from its values in `encodingOrder`. */
export function monitoredRowDigest(salt: SipKey, table: string, uuid: string, values: readonly unknown[]): Digest {
  return rowDigest(salt, rowEncoding(table, uuid, values))
}

const checkLabel = new TextEncoder().encode('ovnctl row content check')

/** The key of the rows' content checks: derived from the digest key by SipHash itself, so independent of it. */
export function checkKeyOf(key: SipKey): SipKey {
  const a = sipHash24(key, checkLabel)
  const b = sipHash24(key, new Uint8Array([...checkLabel, 1]))
  const bytes = new Uint8Array(16)
  const view = new DataView(bytes.buffer)
  view.setUint32(0, a.hi)
  view.setUint32(4, a.lo)
  view.setUint32(8, b.hi)
  view.setUint32(12, b.lo)
  return sipKey(bytes)
}

/** A row's digest and its content check (DigestIndex.set), from one encoding of its values in `encodingOrder`. */
export function monitoredRowDigests(key: SipKey, checkKey: SipKey, table: string, uuid: string, values: readonly unknown[]): {digest: Digest; check: Digest} {
  const encoding = rowEncoding(table, uuid, values)
  return {digest: rowDigest(key, encoding), check: rowDigest(checkKey, encoding)}
}

/**
 * The fingerprint of what is reconciled: database, schema version, and per table the columns and condition.
 * Two sides with different fingerprints hold different sets and must not compare digests.
 */
export function shapeFingerprint(db: string, schemaVersion: string, tables: readonly ShapeTable[]): Digest {
  const canonical = [...tables]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((t) => [t.name, encodingOrder(t.columns), t.where ?? null])
  return fingerprint(JSON.stringify([db, schemaVersion, canonical]))
}

/** The id a salt is known by in messages: a 32-bit unkeyed hash of it (the salt itself is not in messages). */
export function saltIdOf(salt: Uint8Array): number {
  return fingerprint(salt).lo
}
