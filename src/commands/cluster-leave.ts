import {Args, Flags} from '@oclif/core'
import {OvnctlCommand} from '../core/cli/command.js'
import {failedError} from '../core/cli/exit.js'
import {timeoutFlag, yesFlag} from '../core/cli/flags.js'
import {clusterRequest} from './cluster-status.js'

/** `ovnctl cluster-leave`: a server leaves its cluster, as `ovs-appctl cluster/leave DB`. */
export default class ClusterLeave extends OvnctlCommand<typeof ClusterLeave> {
  static override summary = 'Make a server leave its cluster gracefully, as ovs-appctl cluster/leave does.'
  static override description = `Tells the db-serve whose control socket is --target to remove itself from the cluster \
of DB (a leader first hands leadership over). At least one server must remain and a majority must be up. A server \
that left can never rejoin with the same file. Asks for confirmation on a terminal; give --yes otherwise.`

  static override examples = ['<%= config.bin %> <%= command.id %> -t ./sb3.ctl OVN_Southbound --yes']

  static override args = {
    db: Args.string({description: 'The clustered database.', required: true}),
  }

  static override flags = {
    target: Flags.string({char: 't', summary: 'The db-serve control socket (its --unixctl path).', required: true, helpValue: 'SOCKET'}),
    timeout: timeoutFlag({defaultMs: 10_000}),
    ...yesFlag,
  }

  async run(): Promise<void> {
    const ok = await this.confirm(`Make the server at "${this.flags.target}" leave the "${this.args.db}" cluster for good?`, 'leave a cluster')
    if (!ok) throw failedError('Cancelled: the server stays in the cluster')
    await clusterRequest(this.flags.target, 'cluster/leave', [this.args.db], this.flags.timeout)
    this.note(`Started removal of the server at "${this.flags.target}" from "${this.args.db}"`)
  }
}
