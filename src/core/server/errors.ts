/**
 * Errors a server method answers with. ovsdb-server sends method errors as an object
 * {"error": KIND, "details": TEXT} and, where a parameter was at fault, {"syntax": JSON-TEXT} naming it; a
 * method it does not know gets the bare string "unknown method" (observed on OVS 3.1).
 */

/** A method call that fails; `toJSON` is what goes in the response's "error" member. */
export class MethodError extends Error {
  constructor(
    readonly error: string,
    readonly details?: string,
    readonly syntax?: unknown,
  ) {
    super(details === undefined ? error : `${error}: ${details}`)
    this.name = 'MethodError'
  }

  /** The error object as ovsdb-server sends it. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    if (this.syntax !== undefined) out.syntax = JSON.stringify(this.syntax)
    if (this.details !== undefined) out.details = this.details
    out.error = this.error
    return out
  }
}

/** A "syntax error" naming the offending parameter, as ovsdb-server reports malformed requests. */
export function syntaxError(details: string, syntax?: unknown): MethodError {
  return new MethodError('syntax error', details, syntax)
}
