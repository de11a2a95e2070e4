/**
 * Row digests: one keyed 64-bit SipHash-2-4 per row over the caller's canonical encoding of the row (its table,
 * UUID and contents), the element that reconciliation works on. Also the text form of a digest used as a map
 * key and in messages, and schema/condition fingerprints.
 */
import {type Digest, type SipKey, sipHash24, sipKey} from './siphash.js'

export type {Digest, SipKey} from './siphash.js'

const encoder = new TextEncoder()
let scratch = new Uint8Array(1024)

/**
 * The digest of one row under the server's salt. `encoding` must be canonical (the same row gives the same
 * bytes on every replica): a string is taken as its UTF-8 bytes.
 */
export function rowDigest(salt: SipKey, encoding: Uint8Array | string): Digest {
  if (typeof encoding !== 'string') return sipHash24(salt, encoding)
  // UTF-8 needs at most 3 bytes per UTF-16 unit; reuse one buffer so the per-commit path does not allocate.
  if (scratch.length < encoding.length * 3) scratch = new Uint8Array(encoding.length * 3)
  const {written} = encoder.encodeInto(encoding, scratch)
  return sipHash24(salt, scratch.subarray(0, written))
}

const zeroKey = sipKey(new Uint8Array(16))

/** An unkeyed 64-bit fingerprint (SipHash-2-4 under the all-zero key) of a schema, condition or message. */
export function fingerprint(encoding: Uint8Array | string): Digest {
  return rowDigest(zeroKey, encoding)
}

/** A digest as 16 lowercase hex digits, high word first: the form used as a map key. */
export function digestHex(digest: Digest): string {
  return digest.hi.toString(16).padStart(8, '0') + digest.lo.toString(16).padStart(8, '0')
}

/** Parses 16 hex digits back into a digest; throws RangeError on anything else. */
export function digestFromHex(text: string): Digest {
  if (!/^[0-9a-f]{16}$/.test(text)) throw new RangeError(`Cannot parse digest "${text}": 16 lowercase hex digits expected`)
  return {hi: parseInt(text.slice(0, 8), 16), lo: parseInt(text.slice(8), 16)}
}

/** True when two digests are the same 64-bit value. */
export function digestEquals(a: Digest, b: Digest): boolean {
  return a.hi === b.hi && a.lo === b.lo
}
