import {Args, Flags} from '@oclif/core'
import {toJson} from '../core/cli/cells.js'
import {OvnctlCommand} from '../core/cli/command.js'
import {outputFlags, timeoutFlag} from '../core/cli/flags.js'
import {selectedFormat} from '../core/cli/output.js'
import type {RelayStatusJson} from '../core/server/relay.js'
import {clusterRequest} from './cluster-status.js'

/** `ovnctl relay-status`: what a relay or backup db-serve follows, and how well. */
export default class RelayStatus extends OvnctlCommand<typeof RelayStatus> {
  static override summary = 'Show the source, state, lag and clients of a relay or backup db-serve.'
  static override description = `Asks the db-serve whose control socket is --target about each database it relays \
(relay:DB:REMOTES) or replicates as a backup (--sync-from): its role (relay, backup or active), the source it \
follows and the remote it is connected to, the link's state (connecting, syncing, replicating, error) with the last \
error, the lag (round trip of a probe through the update stream, in ms), the clients monitoring the database, the \
last transaction id, writes waiting to be forwarded, and how many connections resumed or took a full snapshot.

The same answer comes from "ovs-appctl -t SOCKET relay/status [DB]" (text) and "relay/status-json [DB]".`

  static override examples = [
    '<%= config.bin %> <%= command.id %> -t /var/run/ovn/sb-relay.ctl',
    '<%= config.bin %> <%= command.id %> -t ./relay.ctl OVN_Southbound --json | jq .[0].lagMs',
  ]

  static override args = {
    db: Args.string({description: 'Only this database (default: every relayed or replicated one).'}),
  }

  static override flags = {
    target: Flags.string({char: 't', summary: 'The db-serve control socket (its --unixctl path).', required: true, helpValue: 'SOCKET'}),
    timeout: timeoutFlag({defaultMs: 10_000}),
    ...outputFlags,
  }

  async run(): Promise<void> {
    const args = this.args.db === undefined ? [] : [this.args.db]
    const list = JSON.parse(await clusterRequest(this.flags.target, 'relay/status-json', args, this.flags.timeout)) as RelayStatusJson[]
    if (selectedFormat(this.flags) === 'json') {
      process.stdout.write(toJson(list, process.stdout.isTTY ? 2 : undefined) + '\n')
      return
    }
    const records = list.map((s) => ({...s, excluded: s.excluded.join(',')}))
    this.printRecords(records, {defaultColumns: ['database', 'role', 'source', 'connectedTo', 'state', 'lagMs', 'clients', 'forwarding', 'lastError']})
  }
}
