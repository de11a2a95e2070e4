import {Args, Flags} from '@oclif/core'
import {OvnctlCommand} from '../core/cli/command.js'
import {outputFlags, timeoutFlag} from '../core/cli/flags.js'
import {selectedFormat} from '../core/cli/output.js'
import {toJson} from '../core/cli/cells.js'
import {firstError} from '../core/idl/client.js'
import {plainJson} from '../core/idl/display.js'
import {connectForCommand, defaultDatabase, defaultRemote} from '../core/idl/command-support.js'

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
    db: Flags.string({summary: 'The server: unix:FILE or tcp:IP:PORT (a comma-separated list tries each).', default: defaultRemote, helpValue: 'REMOTE'}),
    timeout: timeoutFlag({defaultMs: 10_000}),
    ...outputFlags,
  }

  async run(): Promise<void> {
    const [dbArg, table, ...columns] = (await this.parse(DbDump)).argv as string[]
    const client = await connectForCommand(this.flags.db, this.flags.timeout)
    try {
      const db = await defaultDatabase(client, dbArg)
      const schema = (await client.getSchema(db)) as {tables: Record<string, {columns: Record<string, unknown>}>}
      const tables = table === undefined ? Object.keys(schema.tables).sort() : [table]
      const ops = tables.map((t) => ({op: 'select', table: t, where: [], ...(columns.length > 0 ? {columns: ['_uuid', ...columns]} : {})}))
      const results = await client.transact(db, ops)
      const error = firstError(results)
      if (error) throw new Error(`Cannot dump "${db}": ${error.error}${error.details ? `: ${error.details}` : ''}`)
      const rowsOf = (i: number) => ((results[i] as {rows: Record<string, unknown>[]}).rows).map(plainRow)
      this.print(tables, rowsOf, (t) => ['_uuid', ...(columns.length > 0 ? columns : Object.keys(schema.tables[t].columns).sort())])
    } finally {
      client.close()
    }
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

function plainRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(row)) out[k] = plainJson(v)
  return out
}
