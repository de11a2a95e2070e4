import {Args, Flags} from '@oclif/core'
import {OvnctlCommand} from '../core/cli/command.js'
import {failedError} from '../core/cli/exit.js'
import {timeoutFlag, yesFlag} from '../core/cli/flags.js'
import {clusterRequest} from './cluster-status.js'

/** `ovnctl cluster-kick`: removes another server from a cluster, as `ovs-appctl cluster/kick DB SERVER`. */
export default class ClusterKick extends OvnctlCommand<typeof ClusterKick> {
  static override summary = 'Remove a server from a cluster, as ovs-appctl cluster/kick does.'
  static override description = `Asks the db-serve whose control socket is --target to remove SERVER from the cluster \
of DB. SERVER is a server id (full, or its first 4 or more hex digits as cluster-status shows it) or the server's \
cluster address. The removed server can never rejoin with its old file. Asks for confirmation on a terminal; give \
--yes otherwise.`

  static override examples = ['<%= config.bin %> <%= command.id %> -t ./sb1.ctl OVN_Southbound 4f2a --yes']

  static override args = {
    db: Args.string({description: 'The clustered database.', required: true}),
    server: Args.string({description: 'The server to remove: id, id prefix or cluster address.', required: true}),
  }

  static override flags = {
    target: Flags.string({char: 't', summary: 'The db-serve control socket (its --unixctl path).', required: true, helpValue: 'SOCKET'}),
    timeout: timeoutFlag({defaultMs: 10_000}),
    ...yesFlag,
  }

  async run(): Promise<void> {
    const ok = await this.confirm(`Remove server "${this.args.server}" from the "${this.args.db}" cluster for good?`, 'remove a server')
    if (!ok) throw failedError('Cancelled: the server stays in the cluster')
    await clusterRequest(this.flags.target, 'cluster/kick', [this.args.db, this.args.server], this.flags.timeout)
    this.note(`Started removal of server "${this.args.server}" from "${this.args.db}"`)
  }
}
