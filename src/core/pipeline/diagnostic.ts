/**
 * How a compile error is shown to an operator: the message, then the input and a caret under the column the
 * error names, as compilers do. Pure: commands write the text where they want (stderr).
 */
import {PipelineSyntaxError} from './errors.js'

/** One failed input: its text, the error message and, for syntax errors, the 1-based column. */
export interface Diagnostic {
  input: string
  message: string
  column?: number
}

/** The diagnostic of an error raised while compiling `input`. */
export function diagnosticOf(input: string, err: unknown): Diagnostic {
  const message = err instanceof Error ? err.message : String(err)
  return err instanceof PipelineSyntaxError ? {input, message, column: err.column} : {input, message}
}

/** The diagnostic as lines of text: message, then (with a column) the input indented and a caret under it. */
export function formatDiagnostic(d: Diagnostic, prefix = ''): string {
  let text = `${prefix}${d.message}\n`
  if (d.column !== undefined) {
    // Tabs stay tabs so that the caret lines up on any terminal; other characters become spaces.
    const pad = [...d.input.slice(0, d.column - 1)].map((c) => (c === '\t' ? '\t' : ' ')).join('')
    text += `  ${d.input}\n  ${pad}^\n`
  }
  return text
}
