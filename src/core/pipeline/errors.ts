/**
 * Typed errors of the logical flow language (ovn-sb(5) Logical_Flow). Each carries the message ovn-controller
 * would log, so an operator can match it against the real tool's output.
 */

/** A match or action string that does not follow the grammar; `column` is 1-based in the source text. */
export class PipelineSyntaxError extends Error {
  constructor(
    readonly detail: string,
    readonly column: number,
  ) {
    super(`Syntax error at column ${column}: ${detail}`)
    this.name = 'PipelineSyntaxError'
  }
}

/** A well-formed expression or action that breaks a rule of the language (types, widths, unknown names). */
export class PipelineSemanticError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PipelineSemanticError'
  }
}

/** A valid action the encoder cannot turn into OpenFlow (missing context, unsupported feature). */
export class EncodeError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'EncodeError'
  }
}
