import {Args, Flags} from '@oclif/core'
import {OvnctlCommand} from '../core/cli/command.js'
import {failedError, usageError} from '../core/cli/exit.js'
import {yesFlag} from '../core/cli/flags.js'
import {createJoinFile} from '../core/server/clustered-create.js'

/** `ovnctl cluster-join`: a new server for an existing cluster, as `ovsdb-tool join-cluster`. */
export default class ClusterJoin extends OvnctlCommand<typeof ClusterJoin> {
  static override summary = 'Create a database file for a server that joins an existing cluster, as ovsdb-tool join-cluster does.'
  static override description = `Writes FILE for a new server of the cluster of database NAME, reachable by the other \
servers at LOCAL-ADDRESS. The join completes when "ovnctl db-serve FILE" runs: it asks the servers at REMOTE-ADDRESS \
(one or more members) to add it, receives the database from the leader, and becomes a voting member once it has \
caught up. A server that left a cluster cannot rejoin with its old file: join with a new one.

Adding a server changes the cluster's quorum, so this asks for confirmation on a terminal; give --yes otherwise.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> sb2.db OVN_Southbound tcp:10.0.0.2:6644 tcp:10.0.0.1:6644',
    '<%= config.bin %> <%= command.id %> --yes sb3.db OVN_Southbound tcp:10.0.0.3:6644 tcp:10.0.0.1:6644 tcp:10.0.0.2:6644',
  ]

  static override strict = false

  static override args = {
    file: Args.string({description: 'The database file to create.', required: true}),
    name: Args.string({description: 'The database (schema) name, e.g. OVN_Southbound.', required: true}),
    'local-address': Args.string({description: 'Where the other servers reach this one: tcp:IP:PORT, ssl:IP:PORT (db-serve then needs the SSL flags) or unix:PATH.', required: true}),
    'remote-address': Args.string({description: 'A member of the cluster to ask; more may follow.', required: true}),
  }

  static override flags = {
    cid: Flags.string({summary: 'Only join the cluster with this id (as ovsdb-tool join-cluster --cid).', helpValue: 'UUID'}),
    ...yesFlag,
  }

  async run(): Promise<void> {
    const argv = (await this.parse(ClusterJoin)).argv as string[]
    const [file, name, localAddress, ...remotes] = argv
    if (remotes.length === 0) throw usageError('Missing REMOTE-ADDRESS: name at least one member of the cluster')
    if (this.flags.cid !== undefined && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(this.flags.cid)) {
      throw usageError(`Invalid --cid "${this.flags.cid}": expected a UUID`)
    }
    const ok = await this.confirm(`Add a new server at ${localAddress} to the "${name}" cluster at ${remotes.join(', ')}?`, 'join a cluster')
    if (!ok) throw failedError('Cancelled: nothing was written')
    try {
      const {serverId} = await createJoinFile(file, {name, localAddress, remoteAddresses: remotes, clusterId: this.flags.cid})
      this.note(`Created "${file}": server ${serverId} will join "${name}" through ${remotes.join(', ')} when db-serve runs it`)
    } catch (err) {
      const e = err as {code?: string; message: string}
      if (e.code === 'exists') throw failedError(`Cannot create "${file}": the file exists`)
      if (e.message.startsWith('Invalid') || e.message.startsWith('Cannot join')) throw usageError(e.message)
      throw failedError(`Cannot create "${file}": ${e.message}`)
    }
  }
}
