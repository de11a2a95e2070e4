/**
 * The one output formatter (STYLE.md habit 7): records in, text for stdout out. Pure: the caller says whether
 * stdout is a TTY and how to style headings; this module writes nothing.
 *
 * Formats, after ovsdb-client(1) "Output Formatting Options":
 * - table: aligned columns (plain when piped, boxed on a TTY);
 * - json: one document, an array of objects (compact when piped, indented on a TTY);
 * - csv: RFC 4180 quoting, "\n" line ends as ovsdb-client writes them, a heading line unless --no-headings;
 * - ndjson: one compact JSON object per line;
 * - --bare: values only, one per line, a blank line between records (ovsdb-client `--bare`, which is
 *   `--format=list --data=bare --no-headings`).
 * Table, CSV and bare show the default columns; json and ndjson carry every field unless --columns is given.
 */
import {bareText, cellText, escapeControls, toJson, type OutputRecord} from './cells.js'
import {usageError} from './exit.js'
import {boxTable, plainTable} from './table.js'

/** The values of `--format`. */
export const outputFormats = ['table', 'json', 'csv', 'ndjson'] as const

/** One of `outputFormats`. */
export type OutputFormat = (typeof outputFormats)[number]

/** How to render: format and selection from the flags, TTY and styling from the stream. */
export interface RenderOptions {
  format: OutputFormat
  /** Values only, one per line (overrides `format`). */
  bare?: boolean
  /** Columns to show, in order; null means "every field" (json and ndjson without --columns). */
  columns: readonly string[] | null
  /** False for --no-headings (table and csv). */
  headings?: boolean
  /** Whether stdout is a terminal: boxed tables and indented JSON. */
  tty?: boolean
  /** Styles a table heading on a TTY (chalk.bold with colour on; identity otherwise). */
  styleHeading?: (text: string) => string
}

/** Where columns come from: `--columns`, the command's defaults, and every column it can show. */
export interface ColumnChoice {
  /** Columns the operator asked for with --columns, in order. */
  requested?: readonly string[]
  /** Columns shown when --columns is absent. */
  defaultColumns?: readonly string[]
  /** Every column the command can show; defaults to the keys seen in the records. */
  knownColumns?: readonly string[]
}

/** The keys of all records, in order of first appearance. */
export function columnsOf(records: readonly OutputRecord[]): string[] {
  const seen = new Set<string>()
  for (const r of records) for (const k of Object.keys(r)) seen.add(k)
  return [...seen]
}

/** Splits a `--columns` value "a,b, c" into names. */
export function parseColumns(text: string): string[] {
  const names = text.split(',').map((s) => s.trim())
  if (names.some((n) => n === '')) throw usageError(`Invalid --columns "${text}": empty column name`)
  return [...new Set(names)]
}

/**
 * The columns to render. Unknown requested columns are a usage error naming the ones that exist. Returns null
 * for json/ndjson without --columns (every field is printed).
 */
export function resolveColumns(
  records: readonly OutputRecord[],
  format: OutputFormat,
  choice: ColumnChoice,
): string[] | null {
  const known = choice.knownColumns ?? columnsOf(records)
  if (choice.requested && choice.requested.length > 0) {
    const unknown = choice.requested.filter((c) => !known.includes(c))
    if (unknown.length > 0 && (choice.knownColumns || records.length > 0)) {
      const list = known.map((c) => `"${c}"`).join(', ')
      throw usageError(`Unknown column "${unknown[0]}": available columns are ${list}`)
    }
    return [...choice.requested]
  }
  if (format === 'json' || format === 'ndjson') return null
  return [...(choice.defaultColumns ?? known)]
}

function project(record: OutputRecord, columns: readonly string[] | null): OutputRecord {
  if (columns === null) return record
  return Object.fromEntries(columns.map((c) => [c, record[c] ?? null]))
}

/** Quotes one CSV field per RFC 4180 §2: fields with commas, quotes, CR or LF are quoted, quotes doubled. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

function renderCsv(records: readonly OutputRecord[], columns: readonly string[], headings: boolean): string {
  const lines = headings ? [columns.map(csvField).join(',')] : []
  for (const r of records) lines.push(columns.map((c) => csvField(cellText(r[c]))).join(','))
  return lines.map((l) => l + '\n').join('')
}

function renderBare(records: readonly OutputRecord[], columns: readonly string[]): string {
  return records.map((r) => columns.map((c) => bareText(r[c]) + '\n').join('')).join('\n')
}

function renderTable(records: readonly OutputRecord[], columns: readonly string[], options: RenderOptions): string {
  const input = {
    headings: options.headings === false ? null : columns,
    rows: records.map((r) => columns.map((c) => escapeControls(cellText(r[c])))),
    styleHeading: options.styleHeading,
  }
  return options.tty ? boxTable(input) : plainTable(input)
}

/** Renders records as the text stdout receives (empty string, or lines each ending in "\n"). */
export function renderRecords(records: readonly OutputRecord[], options: RenderOptions): string {
  const all = options.columns ?? columnsOf(records)
  if (options.bare) return renderBare(records, all)
  switch (options.format) {
    case 'json':
      return toJson(records.map((r) => project(r, options.columns)), options.tty ? 2 : undefined) + '\n'
    case 'ndjson':
      return records.map((r) => toJson(project(r, options.columns)) + '\n').join('')
    case 'csv':
      return renderCsv(records, all, options.headings !== false)
    case 'table':
      return renderTable(records, all, options)
  }
}
