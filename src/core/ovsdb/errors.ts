/**
 * Typed OVSDB errors carrying the error strings that ovsdb-server sends (RFC 7047 §4.1.3,
 * ovsdb-server(7)). `syntax` is the offending JSON as OVS echoes it back (compact, sorted keys).
 */

/** An expected OVSDB failure: `error` is the wire error string, `details` the human text. */
export class OvsdbError extends Error {
  /** The RFC 7047 error string, e.g. "constraint violation". */
  readonly error: string;
  /** Free-form detail text, shaped like ovsdb-server's. */
  readonly details?: string;
  /** The offending JSON text (ovsdb-server includes it for parse errors). */
  readonly syntax?: string;

  constructor(error: string, details?: string, syntax?: string) {
    super(details === undefined ? error : `${error}: ${details}`);
    this.name = 'OvsdbError';
    this.error = error;
    if (details !== undefined) this.details = details;
    if (syntax !== undefined) this.syntax = syntax;
  }

  /** The error object as it appears in a transaction result. */
  toJSON(): { error: string; details?: string; syntax?: string } {
    const out: { error: string; details?: string; syntax?: string } = { error: this.error };
    if (this.details !== undefined) out.details = this.details;
    if (this.syntax !== undefined) out.syntax = this.syntax;
    return out;
  }

  /** A copy with `prefix` put in front of the details (OVS wraps op-parse errors this way). */
  withDetailsPrefix(prefix: string): OvsdbError {
    return new OvsdbError(this.error, prefix + (this.details ?? ''), this.syntax);
  }
}

/** A "syntax error" (or `error`) that echoes `json` back like ovsdb_syntax_error() does. */
export function syntaxError(json: unknown, details: string, error = 'syntax error'): OvsdbError {
  return new OvsdbError(error, details, json === undefined ? undefined : jsonToOvsString(json));
}

/** A constraint violation (RFC 7047 §4.1.3). */
export function constraintViolation(details: string): OvsdbError {
  return new OvsdbError('constraint violation', details);
}

/**
 * Compact JSON with object members sorted by name, the form in which ovsdb-server echoes the
 * offending JSON back (`syntax` member). Reals keep JS's shortest form (OVS prints %.17g).
 */
export function jsonToOvsString(json: unknown): string {
  if (json === null || typeof json !== 'object') return JSON.stringify(json) ?? 'null';
  if (Array.isArray(json)) return `[${json.map(jsonToOvsString).join(',')}]`;
  const obj = json as Record<string, unknown>;
  const keys = Object.keys(obj).sort(compareUtf8);
  return `{${keys.map((k) => `${JSON.stringify(k)}:${jsonToOvsString(obj[k])}`).join(',')}}`;
}

/**
 * Compares strings by their UTF-8 byte sequences (OVS compares with strcmp). UTF-16 code-unit
 * order differs from it only for surrogates versus U+E000..U+FFFF, which is fixed up here.
 */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) {
        x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
        y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
      }
      return x < y ? -1 : 1;
    }
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}
