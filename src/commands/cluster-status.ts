import {Args, Flags} from '@oclif/core'
import {toJson} from '../core/cli/cells.js'
import {OvnctlCommand} from '../core/cli/command.js'
import {failedError, usageError} from '../core/cli/exit.js'
import {outputFlags, timeoutFlag} from '../core/cli/flags.js'
import {selectedFormat} from '../core/cli/output.js'
import {RpcError} from '../core/jsonrpc/index.js'
import {type ClusterStatusJson, controlRequest} from '../core/server/cluster-control.js'

/** `ovnctl cluster-status`: a clustered database's Raft state, as `ovs-appctl cluster/status DB`. */
export default class ClusterStatus extends OvnctlCommand<typeof ClusterStatus> {
  static override summary = 'Show a server\'s view of its cluster, as ovs-appctl cluster/status does.'
  static override description = `Asks the db-serve whose control socket is --target for the state of clustered database \
DB: cluster and server ids, address, membership, role, term, leader, vote, election timer, the log range, entries not \
yet committed or applied, connections, and every server with the leader's next and match index for it.

The table format prints the fields, then the servers; --json prints one object with a "servers" array.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> -t /var/run/ovn/ovnsb_db.ctl OVN_Southbound',
    '<%= config.bin %> <%= command.id %> -t ./sb1.ctl OVN_Southbound --json | jq .role',
  ]

  static override args = {
    db: Args.string({description: 'The clustered database, e.g. OVN_Southbound.', required: true}),
  }

  static override flags = {
    target: Flags.string({char: 't', summary: 'The db-serve control socket (its --unixctl path).', required: true, helpValue: 'SOCKET'}),
    timeout: timeoutFlag({defaultMs: 10_000}),
    ...outputFlags,
  }

  async run(): Promise<void> {
    const st = await clusterRequest(this.flags.target, 'cluster/status-json', [this.args.db], this.flags.timeout)
    const status = JSON.parse(st) as ClusterStatusJson
    if (selectedFormat(this.flags) === 'json') {
      process.stdout.write(toJson(status, process.stdout.isTTY ? 2 : undefined) + '\n')
      return
    }
    const {servers, log, ...fields} = status
    const summary = Object.entries({...fields, log: `[${log.start}, ${log.end}]`}).map(([field, value]) => ({
      field,
      value: Array.isArray(value) ? value.join(' ') : value,
    }))
    this.printRecords(summary, {defaultColumns: ['field', 'value']})
    if (!this.flags.bare) process.stdout.write('\n')
    this.printRecords(servers, {defaultColumns: ['id', 'address', 'self', 'nextIndex', 'matchIndex', 'lastMsgMsAgo']})
  }
}

/** Runs a cluster/* control command, with the CLI's errors. */
export async function clusterRequest(target: string, command: string, args: string[], timeoutMs: number): Promise<string> {
  if (!target.includes('/')) throw usageError(`Invalid --target "${target}": give the control socket's path (e.g. ./db.ctl)`)
  try {
    return await controlRequest(target, command, args, timeoutMs)
  } catch (err) {
    if (err instanceof RpcError) throw failedError(`"${command} ${args.join(' ')}" failed: ${String(err.error).trim()}`)
    throw failedError(`Cannot reach "${target}": ${(err as Error).message}`)
  }
}
