import fs from 'node:fs'
import {Args, Flags} from '@oclif/core'
import {toJson} from '../core/cli/cells.js'
import {OvnctlCommand} from '../core/cli/command.js'
import {failedError, usageError} from '../core/cli/exit.js'
import {timeoutFlag, sslFlags, sslFlagValues} from '../core/cli/flags.js'
import {firstError} from '../core/idl/client.js'
import {connectForCommand, defaultRemote, requestFailure} from '../core/idl/command-support.js'

/** `ovnctl db-transact`: one transaction from an argument or stdin, as `ovsdb-client transact`. */
export default class DbTransact extends OvnctlCommand<typeof DbTransact> {
  static override summary = 'Run one OVSDB transaction and print its results, as ovsdb-client transact does.'
  static override description = `TRANSACTION is the JSON array of a "transact" request's params: the database name, \
then the operations of RFC 7047 §5.2 (insert, select, update, mutate, delete, wait, commit, abort, comment, assert). \
Give it as an argument, or "-" to read it from stdin.

The results print on stdout as one JSON array (as the server sent it; indented on a terminal). When an operation \
fails, the exit code is 1 and the first error is also named on stderr, so that scripts can test for it.`

  static override examples = [
    `<%= config.bin %> <%= command.id %> --db=unix:nb.sock '["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":"sw0"}}]'`,
    `echo '["OVN_Northbound",{"op":"select","table":"Logical_Switch","where":[]}]' | <%= config.bin %> <%= command.id %> --db=unix:nb.sock -`,
  ]

  static override args = {
    transaction: Args.string({description: 'The transaction as JSON, or - for stdin.', required: true}),
  }

  static override flags = {
    ...sslFlags({dbForm: false}),
    db: Flags.string({summary: 'The server: unix:FILE, tcp:IP:PORT or ssl:IP:PORT (a comma-separated list tries each).', default: defaultRemote, helpValue: 'REMOTE'}),
    timeout: timeoutFlag({defaultMs: 30_000}),
    // The results are JSON anyway; --json is taken as by every command so that scripts get errors as JSON too.
    json: Flags.boolean({summary: 'Print errors as a JSON object on stderr (the results are always JSON).'}),
  }

  async run(): Promise<void> {
    const text = this.args.transaction === '-' ? fs.readFileSync(0, 'utf8') : this.args.transaction
    let params: unknown
    try {
      params = JSON.parse(text)
    } catch (err) {
      throw usageError(`Invalid TRANSACTION: not JSON: ${(err as Error).message}`)
    }
    if (!Array.isArray(params) || typeof params[0] !== 'string') {
      throw usageError('Invalid TRANSACTION: expected a JSON array whose first element is the database name')
    }
    const client = await connectForCommand(this.flags.db, this.flags.timeout, sslFlagValues(this.flags))
    const what = `Transaction on "${params[0]}"`
    let results: unknown[]
    try {
      results = await client.transact(params[0], params.slice(1), this.flags.timeout)
    } catch (err) {
      throw requestFailure(what, err)
    } finally {
      client.close()
    }
    // One JSON document: indented for people on a terminal, compact for pipelines.
    process.stdout.write(toJson(results, process.stdout.isTTY ? 2 : undefined) + '\n')
    const error = firstError(results)
    if (error) throw failedError(`${what} failed: ${error.error}${error.details ? `: ${error.details}` : ''}`)
  }
}
