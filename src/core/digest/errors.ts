/**
 * Typed errors of the digest exchange. A peer's message that cannot be used is an expected failure (the plan
 * answers it by falling back to a snapshot); the code says which check refused it.
 */

/** Why a digest message was refused. */
export type DigestRefusal =
  | 'base64' // not strict base64
  | 'truncated' // shorter than its header says
  | 'magic' // not a digest message at all
  | 'version' // a format this side does not read
  | 'kind' // an estimator where a table was expected, or the like
  | 'checksum' // corrupted in transit
  | 'fingerprint' // built for another schema or condition
  | 'salt' // built under another salt
  | 'size' // not the size that was asked for
  | 'shape' // hash functions, checksum width or cell layout differ from this side's

/** A digest message that this side refuses; `code` says which check failed. */
export class DigestDecodeError extends Error {
  constructor(readonly code: DigestRefusal, detail: string) {
    super(`Cannot decode digest message: ${detail}`)
    this.name = 'DigestDecodeError'
  }
}
