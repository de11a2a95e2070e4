import {Args} from '@oclif/core'
import {OvnctlCommand} from '../core/cli/command.js'
import {failedError, usageError} from '../core/cli/exit.js'
import {createClusterFile} from '../core/server/clustered-create.js'
import {readSchemaFile, resolveSchemaFile} from '../core/server/schema-files.js'

/** `ovnctl cluster-create`: the first server of a new clustered database, as `ovsdb-tool create-cluster`. */
export default class ClusterCreate extends OvnctlCommand<typeof ClusterCreate> {
  static override summary = 'Create a clustered database file for the first server of a new cluster, as ovsdb-tool create-cluster does.'
  static override description = `Writes FILE in the clustered format of ovsdb(5): an empty database of SCHEMA, and a \
cluster whose only server is this one, reachable by the other servers at LOCAL-ADDRESS (tcp:IP:PORT, ssl:IP:PORT or unix:PATH). \
"ovnctl db-serve FILE" then serves it; more servers join with "ovnctl cluster-join". ovsdb-tool reads the file \
(show-log, db-cid, db-sid, cluster-to-standalone).

SCHEMA is a schema file, or one of nb, sb and vswitch. Ephemeral columns become persistent, as in OVS clusters.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> sb1.db sb tcp:10.0.0.1:6644',
    '<%= config.bin %> <%= command.id %> nb1.db /usr/share/ovn/ovn-nb.ovsschema unix:/var/run/ovn/nb-raft.sock',
  ]

  static override args = {
    file: Args.string({description: 'The database file to create.', required: true}),
    schema: Args.string({description: 'A schema file, or nb, sb, vswitch.', required: true}),
    'local-address': Args.string({description: 'Where the other servers reach this one: tcp:IP:PORT, ssl:IP:PORT (db-serve then needs the SSL flags) or unix:PATH.', required: true}),
  }

  async run(): Promise<void> {
    let json: unknown
    try {
      json = readSchemaFile(resolveSchemaFile(this.args.schema))
    } catch (err) {
      throw usageError((err as Error).message)
    }
    try {
      const c = await createClusterFile(this.args.file, json, this.args['local-address'])
      if (c.madePersistent > 0) this.warn(`made ${c.madePersistent} ephemeral column(s) of "${c.schema.name}" persistent: clusters do not support ephemeral columns`)
      this.note(`Created "${this.args.file}": cluster ${c.clusterId} of database "${c.schema.name}", server ${c.serverId} at ${this.args['local-address']}`)
    } catch (err) {
      const e = err as {code?: string; message: string}
      if (e.code === 'exists') throw failedError(`Cannot create "${this.args.file}": the file exists`)
      if (e.message.startsWith('Invalid')) throw usageError(e.message)
      throw failedError(`Cannot create "${this.args.file}": ${e.message}`)
    }
  }
}
