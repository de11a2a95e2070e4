import {Args, Flags} from '@oclif/core'
import {toJson} from '../core/cli/cells.js'
import {OvnctlCommand} from '../core/cli/command.js'
import {usageError} from '../core/cli/exit.js'
import {outputFlags, timeoutFlag} from '../core/cli/flags.js'
import {selectedFormat} from '../core/cli/output.js'
import {connectForCommand, defaultDatabase, defaultRemote, requestFailure} from '../core/idl/command-support.js'
import {plainJson} from '../core/idl/display.js'
import {Replica, type ReplicaEvent} from '../core/idl/replica.js'
import {type ColumnSchema, DatabaseSchema} from '../core/ovsdb/index.js'

/** `ovnctl db-monitor`: changes to tables as they commit, as `ovsdb-client monitor-cond`. */
export default class DbMonitor extends OvnctlCommand<typeof DbMonitor> {
  static override summary = 'Print changes to tables as they commit, one per line, as ovsdb-client monitor-cond does.'
  static override description = `Monitors TABLE (several may be given, comma-separated) of DATABASE with monitor_cond \
and prints every row as it is now ("initial", unless --no-initial), then each insert, modify and delete as it \
commits. Each change is one record: table, uuid, action, and the row's columns (after the change; before it for a \
delete). Values print as plain JSON (sets as arrays, maps as objects, UUIDs as strings).

Pipelines want --format ndjson: one JSON object per line, flushed as it happens. The table and csv formats print \
each batch of changes as it arrives; json prints one array when the monitor ends. The monitor ends after --count \
changes, after --duration, or on Ctrl-C or SIGTERM.

--where takes the monitor condition of ovsdb-server(7) §4.1.12 as JSON: an array of clauses, ORed, such as \
'[["name","==","sw0"]]'.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --db=unix:/var/run/ovn/ovnsb_db.sock OVN_Southbound Port_Binding logical_port chassis --format=ndjson',
    `<%= config.bin %> <%= command.id %> --db=tcp:127.0.0.1:6641 OVN_Northbound Logical_Switch --where='[["name","==","sw0"]]' --count=1`,
  ]

  static override strict = false

  static override args = {
    database: Args.string({description: 'The database.', required: true}),
    table: Args.string({description: 'Table(s) to monitor, comma-separated.', required: true}),
    column: Args.string({description: 'Columns to monitor (default: all); more may follow.'}),
  }

  static override flags = {
    db: Flags.string({summary: 'The server: unix:FILE or tcp:IP:PORT (a comma-separated list tries each).', default: defaultRemote, helpValue: 'REMOTE'}),
    where: Flags.string({summary: 'Monitor only rows matching this condition (JSON array of clauses, ORed).', helpValue: 'JSON'}),
    'no-initial': Flags.boolean({summary: 'Do not print the rows as they are now; only later changes.'}),
    count: Flags.integer({summary: 'Stop after this many changes.', min: 1}),
    duration: timeoutFlag({defaultMs: 0, summary: 'Stop after this long (0: run until interrupted).'}),
    timeout: timeoutFlag({defaultMs: 10_000, summary: 'Give up connecting or starting the monitor after this long.'}),
    ...outputFlags,
  }

  private printed = 0
  private stopping = false
  private collected: Record<string, unknown>[] = []

  async run(): Promise<void> {
    const [dbName, tableList, ...columnNames] = (await this.parse(DbMonitor)).argv as string[]
    let where: unknown
    if (this.flags.where !== undefined) {
      try {
        where = JSON.parse(this.flags.where)
      } catch (err) {
        throw usageError(`Invalid --where: not JSON: ${(err as Error).message}`)
      }
    }
    const client = await connectForCommand(this.flags.db, this.flags.timeout)
    const db = await defaultDatabase(client, dbName)
    const schema = DatabaseSchema.fromJSON(await client.getSchema(db))
    const columns = new Map<string, ColumnSchema[]>()
    const requests: Record<string, unknown> = {}
    for (const table of tableList.split(',')) {
      const ts = schema.tables.get(table)
      if (!ts) throw usageError(`Unknown table "${table}" in database "${db}"`)
      const cols = columnNames.length ? columnNames.map((c) => ts.column(c) ?? badColumn(table, c)) : [...ts.columns.values()]
      columns.set(table, cols)
      requests[table] = [{columns: cols.map((c) => c.name), ...(where === undefined ? {} : {where}), select: {initial: !this.flags['no-initial']}}]
    }
    const replica = new Replica(schema, columns)
    const done = new Promise<void>((resolve) => {
      client.conn.setHandler({
        onRequest: (method, params, id) => (method === 'echo' ? client.conn.respond(id, params) : client.conn.respondError(id, 'unknown method')),
        onNotification: (method, params) => {
          if (method === 'update2') this.emit(replica.apply((params as unknown[])[1] as never), resolve)
        },
      })
      client.conn.onClose((reason) => {
        if (!this.signal.aborted && !this.stopping) this.warn(`Monitor of "${db}" ended: ${reason}`)
        resolve()
      })
      this.signal.addEventListener('abort', () => resolve())
      if (this.flags.duration > 0) setTimeout(resolve, this.flags.duration).unref()
    })
    this.onShutdown(() => this.finish())
    try {
      const initial = await client.conn.request('monitor_cond', [db, 'ovnctl', requests], {timeoutMs: this.flags.timeout})
      this.emit(replica.apply(initial as never), () => {})
    } catch (err) {
      client.close()
      throw requestFailure(`Cannot monitor "${db}"`, err)
    }
    await done
    this.stopping = true
    client.close()
    this.finish()
  }

  private emit(events: ReplicaEvent[], stop: () => void): void {
    const records: Record<string, unknown>[] = []
    for (const e of events) {
      if (this.flags.count !== undefined && this.printed >= this.flags.count) break
      const row: Record<string, unknown> = {table: e.table, uuid: e.uuid, action: e.action}
      for (const [k, v] of Object.entries(e.row)) row[k] = plainJson(v)
      records.push(row)
      this.printed++
    }
    if (records.length > 0) {
      if (selectedFormat(this.flags) === 'json') this.collected.push(...records)
      else this.printRecords(records)
    }
    if (this.flags.count !== undefined && this.printed >= this.flags.count) stop()
  }

  private finished = false

  private finish(): void {
    if (this.finished) return
    this.finished = true
    if (selectedFormat(this.flags) === 'json') process.stdout.write(toJson(this.collected, process.stdout.isTTY ? 2 : undefined) + '\n')
  }
}

function badColumn(table: string, column: string): never {
  throw usageError(`Unknown column "${column}" in table "${table}"`)
}
