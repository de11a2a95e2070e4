import {Args, Flags} from '@oclif/core'
import {toJson} from '../core/cli/cells.js'
import {OvnctlCommand} from '../core/cli/command.js'
import {ExitCode, failedError, usageError} from '../core/cli/exit.js'
import {outputFlags, timeoutFlag, sslFlags, sslFlagValues} from '../core/cli/flags.js'
import {selectedFormat} from '../core/cli/output.js'
import {withTimeout} from '../core/cli/deadline.js'
import {openReplica, saveReplicaCache} from '../core/idl/cache.js'
import type {OvsdbClient} from '../core/idl/client.js'
import {ReplicaMonitor} from '../core/idl/resume.js'
import {connectForCommand, defaultDatabase, defaultRemote, requestFailure} from '../core/idl/command-support.js'
import {plainValue} from '../core/idl/display.js'
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
'[["name","==","sw0"]]'.

--cache FILE keeps the monitored rows in FILE (written when the monitor ends). The next run with the same \
tables, columns and condition starts from FILE and asks the server only for what changed since: from its \
history when it still has it, else by difference digests (monitor_cond_digest, see ovnctl-db-serve(1)), else \
all rows. It then prints the rows that changed since FILE was saved (insert, modify, delete) instead of every \
row as "initial"; a FILE that is missing, damaged or made for another shape is replaced, with a warning.`

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
    ...sslFlags({dbForm: false}),
    db: Flags.string({summary: 'The server: unix:FILE, tcp:IP:PORT or ssl:IP:PORT (a comma-separated list tries each).', default: defaultRemote, helpValue: 'REMOTE'}),
    where: Flags.string({summary: 'Monitor only rows matching this condition (JSON array of clauses, ORed).', helpValue: 'JSON'}),
    'no-initial': Flags.boolean({summary: 'Do not print the rows as they are now; only later changes.'}),
    cache: Flags.string({summary: 'Keep the rows in FILE and resume from it next time, fetching only what changed.', helpValue: 'FILE'}),
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
    // SIGTERM is one of the monitor's documented ends, as --count and --duration are: exit 0 once the output is
    // complete (the json array closed). Ctrl-C stays "interrupted" (130).
    this.shutdown.exitCodes.SIGTERM = ExitCode.ok
    let where: unknown
    if (this.flags.where !== undefined) {
      try {
        where = JSON.parse(this.flags.where)
      } catch (err) {
        throw usageError(`Invalid --where: not JSON: ${(err as Error).message}`)
      }
    }
    const client = await connectForCommand(this.flags.db, this.flags.timeout, sslFlagValues(this.flags))
    // --timeout bounds every step before the monitor runs: a server that never answers is exit 5.
    const what = `Cannot monitor "${dbName}" on "${this.flags.db}"`
    const {db, schema} = await withTimeout(databaseAndSchema(client, dbName), {timeoutMs: this.flags.timeout, what})
    const {columns, requests} = monitorRequests(schema, db, {tables: tableList.split(','), columnNames, where, initial: !this.flags['no-initial']})
    this.schema = schema
    this.columnOrder = new Map([...columns].map(([t, cols]) => [t, cols.map((c) => c.name)]))
    const replica = new Replica(schema, columns)
    let stop: () => void = () => {}
    let lost: string | undefined
    const done = new Promise<void>((resolve) => {
      stop = resolve
      client.conn.setHandler({
        onRequest: (method, params, id) => (method === 'echo' ? client.conn.respond(id, params) : client.conn.respondError(id, 'unknown method')),
        onNotification: (method, params) => {
          if (method === 'update2') this.emit(replica.apply((params as unknown[])[1] as never), resolve)
        },
      })
      client.conn.onClose((reason) => {
        if (!this.signal.aborted && !this.stopping) lost = reason
        resolve()
      })
      this.signal.addEventListener('abort', () => resolve())
      if (this.flags.duration > 0) setTimeout(resolve, this.flags.duration).unref()
    })
    this.onShutdown(() => this.finish())
    try {
      if (this.flags.cache !== undefined) await this.startCached(client, {db, schema, columns, where}, stop)
      else {
        const initial = await client.conn.request('monitor_cond', [db, 'ovnctl', requests], {timeoutMs: this.flags.timeout})
        // --count may be reached by the initial rows alone: end then too.
        this.emit(replica.apply(initial as never), stop)
      }
    } catch (err) {
      client.close()
      throw requestFailure(`Cannot monitor "${db}"`, err)
    }
    await done
    this.stopping = true
    client.close()
    this.finish()
    await this.saveCache()
    // As ovsdb-client monitor does: losing the server before the monitor was told to end is a failure (exit 1).
    if (lost !== undefined) throw failedError(`Monitor of "${db}" ended: ${lost}`)
  }

  private schema: DatabaseSchema | undefined
  private columnOrder: Map<string, string[]> | undefined
  private cached: {file: string; monitor: ReplicaMonitor} | undefined

  /** --cache: resume from the cache file (history, digests or a snapshot), print what changed, keep it current. */
  private async startCached(
    client: OvsdbClient,
    target: {db: string; schema: DatabaseSchema; columns: Map<string, ColumnSchema[]>; where: unknown},
    stop: () => void,
  ): Promise<void> {
    const file = this.flags.cache!
    const tables = [...target.columns].map(([name, cols]) => ({name, columns: cols.map((c) => c.name), where: target.where ?? null}))
    const {replica, reason} = await openReplica(file, {db: target.db, schema: target.schema, tables})
    if (reason !== undefined) this.warn(`${reason}; starting with all rows`)
    const wasEmpty = replica.size === 0
    const monitor = new ReplicaMonitor(client.conn, replica, {
      monitorId: 'ovnctl',
      timeoutMs: this.flags.timeout,
      onEvents: (events) => this.emit(events, stop),
    })
    const report = await monitor.start()
    this.cached = {file, monitor}
    this.onShutdown(() => this.saveCache())
    if (report.refused !== undefined) this.warn(`the server refused this replica's digests and sent every row: ${report.refused}`)
    // A first run prints every row as "initial", as without --cache; later runs print what changed since.
    const events = wasEmpty ? report.events.map((e) => ({...e, action: 'initial' as const})) : report.events
    if (!this.flags['no-initial']) this.emit(events, stop)
  }

  private saving: Promise<void> | undefined

  /** Saves the replica once, whichever of the normal end and a signal's shutdown hook comes first. */
  private saveCache(): Promise<void> {
    if (this.cached === undefined) return Promise.resolve()
    const {file, monitor} = this.cached
    this.saving ??= saveReplicaCache(file, monitor.replica).catch((err: Error) => {
      this.warn(`Cannot save replica cache "${file}": ${err.message}`)
    })
    return this.saving
  }

  private emit(events: ReplicaEvent[], stop: () => void): void {
    const records: Record<string, unknown>[] = []
    for (const e of events) {
      if (this.flags.count !== undefined && this.printed >= this.flags.count) break
      const row: Record<string, unknown> = {table: e.table, uuid: e.uuid, action: e.action}
      const table = this.schema?.tables.get(e.table)
      for (const k of this.columnOrder?.get(e.table) ?? Object.keys(e.row)) if (k in e.row) row[k] = plainValue(table?.column(k)?.type, e.row[k])
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

/** The monitor_cond requests (ovsdb-server(7) §4.1.12) and the columns each table shows; unknown names are exit 2. */
function monitorRequests(
  schema: DatabaseSchema,
  db: string,
  options: {tables: string[]; columnNames: string[]; where: unknown; initial: boolean},
): {columns: Map<string, ColumnSchema[]>; requests: Record<string, unknown>} {
  const columns = new Map<string, ColumnSchema[]>()
  const requests: Record<string, unknown> = {}
  for (const table of options.tables) {
    const ts = schema.tables.get(table)
    if (!ts) throw usageError(`Unknown table "${table}" in database "${db}"`)
    const cols = options.columnNames.length ? options.columnNames.map((c) => ts.column(c) ?? badColumn(table, c)) : [...ts.columns.values()]
    columns.set(table, cols)
    const where = options.where === undefined ? {} : {where: options.where}
    requests[table] = [{columns: cols.map((c) => c.name), ...where, select: {initial: options.initial}}]
  }
  return {columns, requests}
}

/** The database to monitor (the one named, checked against the server's list) and its schema. */
async function databaseAndSchema(client: OvsdbClient, named: string): Promise<{db: string; schema: DatabaseSchema}> {
  const db = await defaultDatabase(client, named)
  return {db, schema: DatabaseSchema.fromJSON(await client.getSchema(db))}
}

function badColumn(table: string, column: string): never {
  throw usageError(`Unknown column "${column}" in table "${table}"`)
}
