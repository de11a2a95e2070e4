import {Args, Flags} from '@oclif/core'
import {toJson} from '../core/cli/cells.js'
import {OvnctlCommand} from '../core/cli/command.js'
import {differencesError, failedError, usageError} from '../core/cli/exit.js'
import {outputFlags, timeoutFlag} from '../core/cli/flags.js'
import {selectedFormat} from '../core/cli/output.js'
import {withTimeout} from '../core/cli/deadline.js'
import {cacheFits, loadReplicaCache, ReplicaCacheError, saveReplicaCache} from '../core/idl/cache.js'
import {connectForCommand, defaultDatabase, defaultRemote, requestFailure} from '../core/idl/command-support.js'
import type {OvsdbClient} from '../core/idl/client.js'
import {DigestedReplica, type ReplicaShape} from '../core/idl/digest-replica.js'
import {reconcileReplica, type RowDifference, type SyncSummary} from '../core/idl/digest-sync.js'
import {DatabaseSchema} from '../core/ovsdb/index.js'

/** `ovnctl digest-sync`: reconcile a replica file with a server, or compare two replicas, by difference digests. */
export default class DigestSync extends OvnctlCommand<typeof DigestSync> {
  static override summary = 'Bring a replica file up to date with a server, or compare two servers or a server and a file, by difference digests.'
  static override description = `With --cache FILE, brings FILE (a replica of TABLE of DATABASE, as db-monitor --cache \
keeps it) up to date with the server at --db, fetching only what changed: from the server's history when it still \
has the file's last transaction, else by difference digests (monitor_cond_digest, see ovnctl-db-serve(1)), else every \
row. A missing FILE is created with every row.

With --check, nothing is written: the rows of FILE, or of the server at --with (another server, or another member \
of the same cluster), are compared with those of the server at --db by their digests, and every row that differs is \
printed with "missing" (only --db has it), "extra" (only the other side has it) or "differs" (both, with other \
values in "columns"). The exit status is then 3.

Every run ends with a summary: how the sides were compared (history, digest or snapshot), the rows checked, the \
differences, the bytes on the wire both ways and the round trips. Under --format json the output is one object \
{"summary", "differences"}; ndjson prints one line per difference and a last {"summary": ...} line; table and csv \
print the differences, then the summary.

TABLE is one table or several, comma-separated; without it, the tables of FILE, or every table of DATABASE. \
--where takes a monitor condition (ovsdb-server(7) §4.1.12) applied to each table.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --db=unix:/var/run/ovn/ovnsb_db.sock --cache=sb.replica OVN_Southbound Logical_Flow,Port_Binding',
    '<%= config.bin %> <%= command.id %> --check --db=tcp:127.0.0.1:6642 --with=tcp:127.0.0.1:6652 OVN_Southbound',
    '<%= config.bin %> <%= command.id %> --check --db=unix:/var/run/ovn/ovnsb_db.sock --cache=sb.replica OVN_Southbound --format=json',
  ]

  static override args = {
    database: Args.string({description: 'The database.', required: true}),
    table: Args.string({description: 'Table(s), comma-separated (default: those of FILE, or every table).'}),
  }

  static override flags = {
    db: Flags.string({summary: 'The server: unix:FILE or tcp:IP:PORT (a comma-separated list tries each).', default: defaultRemote, helpValue: 'REMOTE'}),
    cache: Flags.string({summary: 'The replica file to bring up to date (or, with --check, to compare).', helpValue: 'FILE', exclusive: ['with']}),
    with: Flags.string({summary: 'Compare with this other server (needs --check).', helpValue: 'REMOTE', exclusive: ['cache']}),
    check: Flags.boolean({summary: 'Compare only, write nothing; exit 3 and list the rows when they differ.'}),
    where: Flags.string({summary: 'Only rows matching this condition (JSON array of clauses, ORed), in each table.', helpValue: 'JSON'}),
    timeout: timeoutFlag({defaultMs: 60_000, summary: 'Give up each connection or exchange after this long.'}),
    ...outputFlags,
  }

  async run(): Promise<void> {
    const {flags, args} = this
    if (flags.cache === undefined && flags.with === undefined) throw usageError('Name what to reconcile with the server: --cache FILE, or --with REMOTE and --check')
    if (flags.with !== undefined && !flags.check) throw usageError('--with compares two servers and writes nothing: it needs --check')
    const where = parseWhere(flags.where)
    const client = await connectForCommand(flags.db, flags.timeout)
    try {
      const what = `Cannot read "${args.database}" on "${flags.db}"`
      const schema = await withTimeout(schemaOf(client, args.database), {timeoutMs: flags.timeout, what})
      const cached = flags.cache === undefined ? undefined : await this.loadCache(flags.cache)
      const shape = shapeOf(args.database, schema, args.table?.split(',') ?? cached?.shape.tables.map((t) => t.name), where, cached)
      const replica = cached !== undefined && cacheFits(cached, shape) ? cached : await this.otherSide(shape, cached)
      const {summary, differences} = await this.reconcile(client, replica)
      if (!flags.check) await saveReplicaCache(flags.cache!, replica).catch((err: Error) => {
        throw failedError(`Cannot save replica cache "${flags.cache}": ${err.message}`)
      })
      this.print(differences, summary)
      if (flags.check && differences.length > 0) {
        throw differencesError(`"${flags.db}" and "${flags.cache ?? flags.with}" differ in ${differences.length} of ${summary.rows} rows`)
      }
    } finally {
      client.close()
    }
  }

  /** The cache file, if there is one; under --check it must exist and be intact. */
  private async loadCache(file: string): Promise<DigestedReplica | undefined> {
    try {
      return await loadReplicaCache(file)
    } catch (err) {
      const missing = err instanceof ReplicaCacheError && /ENOENT/.test(err.message)
      if (this.flags.check) throw failedError(missing ? `Cannot check "${file}": no such file` : (err as Error).message)
      if (!missing) this.warn(`${(err as Error).message}; fetching every row`)
      return undefined
    }
  }

  /** The replica compared with --db: a fresh one for a new file, or the rows of the server at --with. */
  private async otherSide(shape: ReplicaShape, cached: DigestedReplica | undefined): Promise<DigestedReplica> {
    const replica = new DigestedReplica(shape)
    if (this.flags.with === undefined) {
      if (cached !== undefined) {
        if (this.flags.check) throw failedError(`Cannot check "${this.flags.cache}": it holds another table set, columns, condition or schema version`)
        this.warn(`"${this.flags.cache}" holds another table set, columns, condition or schema version; fetching every row`)
      }
      return replica
    }
    const other = await connectForCommand(this.flags.with, this.flags.timeout)
    const progress = this.progress(`Reading ${this.flags.with}`, {unit: 'round trips'})
    try {
      await reconcileReplica(other.conn, replica, {timeoutMs: this.flags.timeout, onRound: (round) => progress.update(round)})
      return replica
    } catch (err) {
      throw requestFailure(`Cannot read "${shape.db}" on "${this.flags.with}"`, err)
    } finally {
      progress.end()
      other.close()
    }
  }

  /** One exchange with --db, with a progress line (round trips so far) on a terminal. */
  private async reconcile(client: OvsdbClient, replica: DigestedReplica): Promise<{summary: SyncSummary; differences: RowDifference[]}> {
    const progress = this.progress(`Reconciling with ${this.flags.db}`, {unit: 'round trips'})
    try {
      const options = {timeoutMs: this.flags.timeout, ignoreHistory: this.flags.check, onRound: (round: number) => progress.update(round)}
      const result = await reconcileReplica(client.conn, replica, options)
      result.differences.sort((a, b) => (a.table + a.uuid < b.table + b.uuid ? -1 : 1))
      return result
    } catch (err) {
      throw requestFailure(`Cannot reconcile with "${this.flags.db}"`, err)
    } finally {
      progress.end()
    }
  }

  private print(differences: RowDifference[], summary: SyncSummary): void {
    const source = this.flags.db
    const target = this.flags.cache ?? this.flags.with!
    const record = {source, target, ...summary}
    const format = selectedFormat(this.flags)
    if (format === 'json') {
      const doc = this.flags.check ? {summary: record, differences} : {summary: record}
      process.stdout.write(toJson(doc, process.stdout.isTTY ? 2 : undefined) + '\n')
      return
    }
    const columns = ['table', 'uuid', 'difference', 'columns']
    if (this.flags.check && differences.length > 0) {
      this.printRecords(differences as never, {defaultColumns: columns, knownColumns: columns})
      if (format !== 'ndjson') process.stdout.write('\n')
    }
    if (format === 'ndjson') this.printRecords([{summary: record}])
    else this.printRecords([record])
  }
}

function parseWhere(text: string | undefined): unknown {
  if (text === undefined) return null
  try {
    const where = JSON.parse(text)
    if (!Array.isArray(where)) throw new Error('an array of clauses expected')
    return where
  } catch (err) {
    throw usageError(`Invalid --where: ${(err as Error).message}`)
  }
}

async function schemaOf(client: OvsdbClient, named: string): Promise<DatabaseSchema> {
  const db = await defaultDatabase(client, named)
  return DatabaseSchema.fromJSON(await client.getSchema(db))
}

/** The tables to reconcile: those named, else the cache's (same columns), else every table with every column. */
function shapeOf(db: string, schema: DatabaseSchema, named: string[] | undefined, where: unknown, cached?: DigestedReplica): ReplicaShape {
  const names = named ?? [...schema.tables.keys()].sort()
  const tables = names.map((name) => {
    const table = schema.tables.get(name)
    if (table === undefined) throw usageError(`Unknown table "${name}" in database "${db}"`)
    const fromCache = cached?.shape.tables.find((t) => t.name === name)
    const columns = fromCache !== undefined && named === undefined ? [...fromCache.columns] : [...table.columns.keys()]
    return {name, columns, where: fromCache !== undefined && named === undefined && where === null ? fromCache.where : where}
  })
  return {db, schema, tables}
}
