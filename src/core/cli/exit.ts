/**
 * Exit codes and the typed errors that carry them. This is the ONE place that maps an error to an exit code
 * (STYLE.md habit 7); the code is the same with and without `--json`.
 */

import type {ChalkInstance} from 'chalk'

/** The exit codes every ovnctl command uses (documented in ovnctl(1) EXIT STATUS). */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  differences: 3,
  auth: 4,
  timeout: 5,
  interrupted: 130,
} as const

/** One of the values of `ExitCode`. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

/** Name of each exit code as it appears in JSON errors (`"kind"`). */
export type ExitKind = keyof typeof ExitCode

/** What each exit code means, in the words of the man page (ovnctl(1) EXIT STATUS). */
export const exitCodeMeanings: ReadonlyArray<{code: ExitCodeValue; kind: ExitKind; meaning: string}> = [
  {code: 0, kind: 'ok', meaning: 'Success.'},
  {code: 1, kind: 'failed', meaning: 'The operation failed (the database, the peer or the system refused it).'},
  {code: 2, kind: 'usage', meaning: 'Usage error: unknown flag or command, bad value, or a missing --yes without a terminal.'},
  {code: 3, kind: 'differences', meaning: 'The command ran and found differences (e.g. a diff or a check that does not match).'},
  {code: 4, kind: 'auth', meaning: 'TLS or authentication failure.'},
  {code: 5, kind: 'timeout', meaning: 'A --timeout expired.'},
  {code: 130, kind: 'interrupted', meaning: 'Interrupted by SIGINT (Ctrl-C).'},
]

const knownCodes = new Set<number>(Object.values(ExitCode))

/** An expected failure of a command: a message for the operator and the exit code to leave with. */
export class CliError extends Error {
  /** The process exit code for this failure. */
  readonly exitCode: ExitCodeValue

  constructor(message: string, exitCode: ExitCodeValue = ExitCode.failed, options?: {cause?: unknown}) {
    super(message, options)
    this.name = 'CliError'
    this.exitCode = exitCode
  }
}

/** A usage error (exit 2): bad flag value, unknown column, confirmation needed without a terminal. */
export function usageError(message: string): CliError {
  return new CliError(message, ExitCode.usage)
}

/** An operation that failed (exit 1). */
export function failedError(message: string, cause?: unknown): CliError {
  return new CliError(message, ExitCode.failed, {cause})
}

/** Differences were found (exit 3): for diff/check commands, the result is on stdout, the summary on stderr. */
export function differencesError(message: string): CliError {
  return new CliError(message, ExitCode.differences)
}

/** A TLS or authentication failure (exit 4). */
export function authError(message: string, cause?: unknown): CliError {
  return new CliError(message, ExitCode.auth, {cause})
}

/**
 * A wait that ran out of time (exit 5): `timeoutError('Cannot join cluster "4f2a"', 5000, 'no leader elected')`
 * says `Cannot join cluster "4f2a": no leader elected after 5000 ms`.
 */
export function timeoutError(what: string, timeoutMs: number, detail = 'no answer'): CliError {
  return new CliError(`${what}: ${detail} after ${timeoutMs} ms`, ExitCode.timeout)
}

/** The operator pressed Ctrl-C (exit 130, 128 + SIGINT as shells report it). */
export function interruptedError(): CliError {
  return new CliError('Interrupted', ExitCode.interrupted)
}

/** OpenSSL and Node TLS error codes (node:tls, `err.code`) that mean "TLS or authentication". */
const tlsCodePattern =
  /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|HOSTNAME_MISMATCH$|ERR_OSSL_)/

function field(err: unknown, name: string): unknown {
  return typeof err === 'object' && err !== null ? (err as Record<string, unknown>)[name] : undefined
}

/**
 * Whether `err` is an oclif parse error (unknown flag, bad option, missing argument). oclif exits those with 2
 * by default but lets `oclif.exitCodes` in package.json change it, so we decide here rather than trust it.
 */
export function isParseError(err: unknown): boolean {
  return field(err, 'parse') !== undefined && field(err, 'oclif') !== undefined
}

/** Maps any thrown value to the exit code of the contract. */
export function exitCodeOf(err: unknown): ExitCodeValue {
  if (err instanceof CliError) return err.exitCode
  const own = field(err, 'exitCode')
  if (typeof own === 'number' && knownCodes.has(own)) return own as ExitCodeValue
  if (isParseError(err)) return ExitCode.usage
  const oclif = field(err, 'oclif') as {exit?: unknown} | undefined
  // `this.exit(n)` inside a command throws an oclif ExitError carrying n.
  if (field(err, 'code') === 'EEXIT' && typeof oclif?.exit === 'number') return oclif.exit as ExitCodeValue
  const name = field(err, 'name')
  // inquirer's prompts throw ExitPromptError on Ctrl-C; our own SIGINT handling aborts with AbortError.
  if (name === 'ExitPromptError' || name === 'AbortError') return ExitCode.interrupted
  // AbortSignal.timeout() rejects with a DOMException named TimeoutError.
  if (name === 'TimeoutError') return ExitCode.timeout
  const code = field(err, 'code')
  if (code === 'ETIMEDOUT') return ExitCode.timeout
  if (typeof code === 'string' && tlsCodePattern.test(code)) return ExitCode.auth
  // Unknown commands and other oclif CLIErrors: oclif marks them exit 2 (usage) unless told otherwise.
  if (typeof oclif?.exit === 'number' && knownCodes.has(oclif.exit)) return oclif.exit as ExitCodeValue
  return ExitCode.failed
}

/** The name of an exit code (`"usage"`, `"timeout"`...), as JSON errors carry it. */
export function exitKindOf(code: number): ExitKind {
  return exitCodeMeanings.find((m) => m.code === code)?.kind ?? 'failed'
}

/** oclif's wrapping of a flag value that failed to parse: "Parsing --count \n\tExpected an integer ...". */
const flagParsePattern = /^Parsing (--[\w-]+) \n\t/

/**
 * The operator-facing message of any thrown value: oclif's "See more help with --help" trailer removed, and its
 * two-line "Parsing --flag" wrapping turned into one line, "Invalid --flag: detail" (the detail alone when it
 * already names the flag, as our own flag parsers do).
 */
export function errorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const message = err.message.replace(/\nSee more help with --help$/, '')
  const parse = flagParsePattern.exec(message)
  if (!parse) return message
  const detail = message.slice(parse[0].length)
  return detail.includes(parse[1]) ? detail : `Invalid ${parse[1]}: ${detail}`
}

/** The JSON document printed on stderr for an error under `--json` (stdout stays for data). */
export function errorDocument(err: unknown): {error: {message: string; exitCode: number; kind: ExitKind}} {
  const exitCode = exitCodeOf(err)
  return {error: {message: errorMessage(err), exitCode, kind: exitKindOf(exitCode)}}
}

/**
 * The text written to stderr for an error: a JSON document under --json, else "ovnctl: message" (the
 * program name in red on a terminal), a pointer to --help for usage errors, the stack with `debug`.
 */
export function errorReport(
  err: unknown,
  options: {json: boolean; bin: string; id?: string; chalk?: ChalkInstance; debug?: boolean},
): string {
  if (options.json) return JSON.stringify(errorDocument(err)) + '\n'
  const code = exitCodeOf(err)
  const red = options.chalk ? options.chalk.red : (s: string) => s
  let text = `${red(`${options.bin}:`)} ${errorMessage(err)}\n`
  if (code === ExitCode.usage) text += `See "${[options.bin, options.id, '--help'].filter(Boolean).join(' ')}".\n`
  if (options.debug && err instanceof Error && !(err instanceof CliError)) text += `${err.stack ?? ''}\n`
  return text
}
