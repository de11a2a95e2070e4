/**
 * Tables: cli-table3 boxes for a person at a terminal, and plain aligned text when piped, laid out as
 * ovsdb-client(1) `--format=table` prints it (a heading row, a row of dashes, columns separated by one space,
 * the last column not padded) so that `awk`, `cut` and `column` read it.
 */
import Table from 'cli-table3'
import {displayWidth} from './cells.js'

/** What a table needs: headings (or none), rows of already-escaped cell texts, and how to style a heading. */
export interface TableInput {
  headings: readonly string[] | null
  rows: ReadonlyArray<readonly string[]>
  /** Styles a heading on a TTY (e.g. chalk.bold); identity when colour is off. */
  styleHeading?: (text: string) => string
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)))
}

/** Plain aligned text, as ovsdb-client prints tables: one line per row, every line ending in "\n". */
export function plainTable(input: TableInput): string {
  const {headings, rows} = input
  const ncols = headings?.length ?? rows[0]?.length ?? 0
  if (ncols === 0) return ''
  const widths = Array.from({length: ncols}, (_, i) =>
    Math.max(headings ? displayWidth(headings[i] ?? '') : 0, ...rows.map((r) => displayWidth(r[i] ?? ''))),
  )
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === ncols - 1 ? c : pad(c, widths[i] ?? 0))).join(' ').trimEnd() + '\n'
  const out: string[] = []
  if (headings) {
    out.push(line(headings))
    out.push(widths.map((w) => '-'.repeat(w)).join(' ') + '\n')
  }
  for (const row of rows) out.push(line(row))
  return out.join('')
}

/**
 * A cli-table3 box for a terminal. cli-table3 colours headings and borders itself through @colors/colors, which
 * ignores NO_COLOR, so its styles are emptied and headings are styled by our own per-stream chalk instead.
 */
export function boxTable(input: TableInput): string {
  const style = input.styleHeading ?? ((t: string) => t)
  const table = new Table({
    head: input.headings ? input.headings.map(style) : [],
    // compact: a rule under the headings but none between rows, one line per record as in the piped form.
    style: {head: [], border: [], 'padding-left': 1, 'padding-right': 1, compact: true},
  })
  for (const row of input.rows) table.push([...row])
  if (!input.headings && input.rows.length === 0) return ''
  return table.toString() + '\n'
}
