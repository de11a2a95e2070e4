import {Args, Flags} from '@oclif/core'
import {OvnctlCommand} from '../core/cli/command.js'
import {usageError} from '../core/cli/exit.js'
import {outputFlags, timeoutFlag, sslFlags, sslFlagValues} from '../core/cli/flags.js'
import {selectedFormat} from '../core/cli/output.js'
import {toJson} from '../core/cli/cells.js'
import {withTimeout} from '../core/cli/deadline.js'
import {firstError, type OvsdbClient} from '../core/idl/client.js'
import {plainValue} from '../core/idl/display.js'
import {DatabaseSchema} from '../core/ovsdb/index.js'
import {connectForCommand, defaultDatabase, defaultRemote, peerRefusal} from '../core/idl/command-support.js'

/** `ovnctl db-dump`: the contents of tables, as `ovsdb-client dump`. */
export default class DbDump extends OvnctlCommand<typeof DbDump> {
  static override summary = 'Print the contents of a database\'s tables, as ovsdb-client dump does.'
  static override description = `Reads every row of TABLE (or of every table) of DATABASE from the server at --db and \
prints it. Values print as plain JSON: sets as arrays, maps as objects, UUIDs as strings. With several tables, the \
table and csv formats print one section per table under a "TABLE table" caption (as ovsdb-client does), json prints \
one object keyed by table name, and ndjson adds a "_table" field to each row.

DATABASE may be omitted when the server has only one database besides _Server.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --db=unix:/var/run/ovn/ovnnb_db.sock OVN_Northbound Logical_Switch name ports',
    '<%= config.bin %> <%= command.id %> --db=tcp:127.0.0.1:6642 OVN_Southbound Chassis --format=json | jq .',
  ]

  static override strict = false

  static override args = {
    database: Args.string({description: 'The database (default: the only one the server has).'}),
    table: Args.string({description: 'A table (default: every table).'}),
    column: Args.string({description: 'Columns to read (default: all); more may follow.'}),
  }

  static override flags = {
    ...sslFlags({dbForm: false}),
    db: Flags.string({summary: 'The server: unix:FILE, tcp:IP:PORT or ssl:IP:PORT (a comma-separated list tries each).', default: defaultRemote, helpValue: 'REMOTE'}),
    timeout: timeoutFlag({defaultMs: 10_000}),
    ...outputFlags,
  }

  async run(): Promise<void> {
    const [dbArg, table, ...columns] = (await this.parse(DbDump)).argv as string[]
    const client = await connectForCommand(this.flags.db, this.flags.timeout, sslFlagValues(this.flags))
    try {
      // --timeout bounds the whole read: a server that accepts the connection and never answers is exit 5.
      const what = `Cannot dump ${dbArg === undefined ? '' : `"${dbArg}" `}from "${this.flags.db}"`
      const {tables, results, columnsOf, schema} = await withTimeout(this.read(client, dbArg, table, columns), {timeoutMs: this.flags.timeout, what})
      const rowsOf = (i: number) => sortRows(((results[i] as {rows: Record<string, unknown>[]}).rows).map((r) => plainRow(schema, tables[i], r)), columnsOf(tables[i]))
      this.print(tables, rowsOf, columnsOf)
    } catch (err) {
      throw peerRefusal(`Cannot dump from "${this.flags.db}"`, err) ?? err
    } finally {
      client.close()
    }
  }

  /** Picks the database, checks the names against its schema, and selects the rows of every table asked for. */
  private async read(client: OvsdbClient, dbArg: string | undefined, table: string | undefined, columns: string[]) {
    const db = await defaultDatabase(client, dbArg)
    const schemaJSON = await client.getSchema(db)
    const schema = DatabaseSchema.fromJSON(schemaJSON)
    const tables = table === undefined ? [...schema.tables.keys()].sort() : [table]
    checkNames(db, schema, tables, columns)
    // _uuid always comes first; naming it too must not ask the server for it twice (a "syntax error" there).
    const named = columns.filter((c) => c !== '_uuid')
    const ops = tables.map((t) => ({op: 'select', table: t, where: [], ...(columns.length > 0 ? {columns: ['_uuid', ...named]} : {})}))
    const results = await client.transact(db, ops)
    const error = firstError(results)
    if (error) throw new Error(`Cannot dump "${db}": ${error.error}${error.details ? `: ${error.details}` : ''}`)
    // _uuid first (rows have an identity in every format), then the named columns or every column.
    const columnsOf = (t: string) => ['_uuid', ...(columns.length > 0 ? named : [...schema.tables.get(t)!.columns.keys()].sort())]
    return {tables, results, columnsOf, schema}
  }

  private print(tables: string[], rowsOf: (i: number) => Record<string, unknown>[], columnsOf: (t: string) => string[]): void {
    const format = selectedFormat(this.flags)
    if (tables.length === 1) {
      this.printRecords(rowsOf(0), {defaultColumns: columnsOf(tables[0]), knownColumns: columnsOf(tables[0])})
      return
    }
    if (format === 'json') {
      const doc: Record<string, unknown> = {}
      tables.forEach((t, i) => (doc[t] = rowsOf(i)))
      process.stdout.write(toJson(doc, process.stdout.isTTY ? 2 : undefined) + '\n')
      return
    }
    if (format === 'ndjson') {
      this.printRecords(tables.flatMap((t, i) => rowsOf(i).map((r) => ({_table: t, ...r}))))
      return
    }
    tables.forEach((t, i) => {
      if (!this.flags.bare) process.stdout.write(`${i > 0 ? '\n' : ''}${t} table\n`)
      this.printRecords(rowsOf(i), {defaultColumns: columnsOf(t), knownColumns: columnsOf(t)})
    })
  }
}

/** Unknown tables and columns are usage errors (exit 2), named before the server is asked. */
function checkNames(db: string, schema: DatabaseSchema, named: string[], columns: string[]): void {
  for (const t of named) {
    const table = schema.tables.get(t)
    if (table === undefined) throw usageError(`Unknown table "${t}" in database "${db}"`)
    const unknown = columns.find((c) => table.column(c) === undefined)
    if (unknown !== undefined) throw usageError(`Unknown column "${unknown}" in table "${t}"`)
  }
}

function plainRow(schema: DatabaseSchema, table: string, row: Record<string, unknown>): Record<string, unknown> {
  const ts = schema.tables.get(table)!
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(row)) out[k] = plainValue(ts.column(k)?.type, v)
  return out
}

/** Rows in a stable order, as ovsdb-client prints them: by the shown columns left to right, _uuid last. */
function sortRows(rows: Record<string, unknown>[], columns: string[]): Record<string, unknown>[] {
  const order = [...columns.filter((c) => c !== '_uuid'), '_uuid']
  const key = (r: Record<string, unknown>) => JSON.stringify(order.map((c) => r[c]))
  return rows.map((r) => [key(r), r] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r)
}
