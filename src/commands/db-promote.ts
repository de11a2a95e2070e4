import {Flags} from '@oclif/core'
import {OvnctlCommand} from '../core/cli/command.js'
import {timeoutFlag} from '../core/cli/flags.js'
import {clusterRequest} from './cluster-status.js'

/** `ovnctl db-promote`: a backup db-serve becomes the active server. */
export default class DbPromote extends OvnctlCommand<typeof DbPromote> {
  static override summary = 'Promote a backup db-serve (--sync-from) to the active server, keeping what it replicated.'
  static override description = `Tells the db-serve whose control socket is --target to stop following its active \
server and to accept writes, as "ovs-appctl -t SOCKET ovsdb-server/disconnect-active-ovsdb-server" does for \
ovsdb-server. Everything it replicated is already in its own database files. Like ovsdb-server, it closes its \
client connections so that clients reconnect and see the new role. Promoting a server that is already active \
changes nothing. "ovs-appctl -t SOCKET ovsdb-server/connect-active-ovsdb-server" makes it a backup again.`

  static override examples = ['<%= config.bin %> <%= command.id %> -t /var/run/ovn/ovnsb_db.ctl']

  static override flags = {
    target: Flags.string({char: 't', summary: 'The db-serve control socket (its --unixctl path).', required: true, helpValue: 'SOCKET'}),
    timeout: timeoutFlag({defaultMs: 10_000}),
  }

  async run(): Promise<void> {
    await clusterRequest(this.flags.target, 'ovsdb-server/disconnect-active-ovsdb-server', [], this.flags.timeout)
    process.stderr.write(`${this.flags.target}: active\n`)
  }
}
