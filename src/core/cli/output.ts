/**
 * From parsed flags and the real stdout to rendered text: the glue between `outputFlags` and `renderRecords`,
 * shared by the command base class and the command-free test harness so both run the same code.
 */
import type {OutputRecord} from './cells.js'
import {chalkFor, type OutputStream} from './color.js'
import {parseColumns, renderRecords, resolveColumns, type ColumnChoice, type OutputFormat} from './render.js'

/** The values of `outputFlags` and `globalFlags` as oclif parses them (all optional: not every command has them). */
export interface OutputFlagValues {
  format?: OutputFormat
  json?: boolean
  columns?: string
  'no-headings'?: boolean
  bare?: boolean
  'no-color'?: boolean
}

/** The format the flags select: --json wins, then --format, then table. */
export function selectedFormat(flags: OutputFlagValues): OutputFormat {
  return flags.json ? 'json' : (flags.format ?? 'table')
}

/**
 * Whether the command line asks for JSON (before a `--`), read from raw argv because errors may come before
 * the flags are parsed.
 */
export function argvWantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--')
  const args = end < 0 ? argv : argv.slice(0, end)
  return args.some(
    (a, i) => a === '--json' || a === '--format=json' || a === '-fjson' || ((a === '--format' || a === '-f') && args[i + 1] === 'json'),
  )
}

/** Renders records for `stdout` as the flags ask: format, columns, headings, bare, TTY layout, colour. */
export function formatRecords(
  records: readonly OutputRecord[],
  flags: OutputFlagValues,
  context: {stdout: OutputStream; env?: Record<string, string | undefined>; choice?: Omit<ColumnChoice, 'requested'>},
): string {
  const format = selectedFormat(flags)
  const requested = flags.columns === undefined ? undefined : parseColumns(flags.columns)
  // --bare shows the same columns as a table would.
  const columns = resolveColumns(records, flags.bare ? 'table' : format, {...context.choice, requested})
  const chalk = chalkFor(context.stdout, {noColor: flags['no-color'], env: context.env})
  return renderRecords(records, {
    format,
    bare: flags.bare,
    columns,
    headings: !flags['no-headings'],
    tty: context.stdout.isTTY === true,
    styleHeading: (text) => chalk.bold(text),
  })
}
