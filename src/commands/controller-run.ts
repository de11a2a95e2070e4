import fs from 'node:fs'
import path from 'node:path'
import {Args, Flags} from '@oclif/core'
import {OvnctlCommand} from '../core/cli/command.js'
import {daemonFlags, sslFlags, sslFlagValues} from '../core/cli/flags.js'
import {encapTypes} from '../core/controller/config.js'
import {registerControllerCommands} from '../core/controller/control-commands.js'
import {Controller} from '../core/controller/controller.js'
import {defaultRemote, tlsSettingsOf} from '../core/idl/command-support.js'
import {ControlServer} from '../core/server/control.js'

/** `ovnctl controller-run`: the hypervisor controller, as `ovn-controller` is run. */
export default class ControllerRun extends OvnctlCommand<typeof ControllerRun> {
  static override summary = 'Run the OVN hypervisor controller: compile the Southbound logical flows into the local switch, as ovn-controller does.'
  static override description = `Connects to the local Open_vSwitch database (OVS-DATABASE, by default the db.sock of the \
run directory) and reads its configuration as ovn-controller does, from the Open_vSwitch table's external_ids: \
system-id (the chassis name), ovn-remote (the Southbound database), ovn-encap-type and ovn-encap-ip (the tunnel \
endpoint), ovn-bridge (the integration bridge, br-int by default) and ovn-monitor-all. Flags override them. \
An ssl: Southbound is reached with the key, certificate and CA of the SSL row that the Open_vSwitch table names \
(ovs-vsctl set-ssl), which override the SSL flags, as ovn-controller does; the row is read again at every \
connection attempt.

It registers the chassis (Chassis, Encap, Chassis_Private) in the Southbound, claims the Port_Binding of every \
interface of the bridge with external_ids:iface-id (setting "chassis", then "up" once its flows are installed, \
and external_ids:ovn-installed on the interface), releases ports whose interface left, and creates a tunnel port \
to every other chassis. The Southbound is monitored only for the logical datapaths present here (and those \
reachable from them through routers), unless ovn-monitor-all is true.

Every logical flow of the local datapaths is compiled into the OpenFlow tables ovn-controller 23.03 uses (ingress \
tables 8-36, egress 42-63, physical tables 0 and 37-41, 64-65), with the logical flow's UUID prefix as cookie. \
The MAC_Binding and Static_MAC_Binding rows of local datapaths become tables 66 and 67 (get_arp/get_nd, \
lookup_arp/lookup_nd); a row with a bad IP or MAC or an unknown port is logged and skipped. A \
Southbound change recompiles only the flows it affects; a compiled flow is kept (the lflow cache) and used again, \
also by a full recompute, while the port keys, address sets, port group members and chassis residency it looked \
up are unchanged. The desired table is diffed against the switch's and the \
difference applied as one atomic bundle by running "ovs-ofctl bundle"; flows already in the switch are kept until \
replaced, so a restart does not interrupt traffic. A logical flow that does not compile is logged with its UUID, \
stage, match and actions, and the rest is installed.

By default the egress pipeline runs on the chassis owning the output port, as in OVN. For the logical switches named in the Southbound's SB_Global options:ovnctl-egress-on-ingress (comma-separated names, or "*"; set it with "ovn-nbctl set NB_Global . options:ovnctl-egress-on-ingress=SW", which ovn-northd copies there), a packet for a port on another chassis runs the egress pipeline here, so packets it drops never cross the underlay, and leaves with bit 31 of the Geneve option set ("egress already done"); a receiving controller-run then delivers it to the port without running the egress pipeline again (ovn-controller ignores the bit and runs it again). Only switches whose egress pipeline keeps no conntrack state qualify (no stateful ACLs, no load balancers: the reply must meet the connection in the output port's zone on its chassis); others, and every switch over VXLAN, are refused with the reason logged and shown by connection-status.

The control socket (--unixctl) answers ovs-appctl and "ovnctl appctl": recompute, lflow-cache/flush (empty the \
cache, then recompute), connection-status, flows/dump \
(the desired flows as ovs-ofctl lines), flows/json (with their origin; see "ovnctl flows-dump"), version and exit.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --detach --pidfile=ctl.pid --log-file=ctl.log --unixctl=./ctl.ctl',
    '<%= config.bin %> <%= command.id %> unix:/var/run/openvswitch/db.sock --system-id=hv1 --ovn-remote=tcp:127.0.0.1:6642 --encap-ip=192.168.0.10',
  ]

  static override args = {
    database: Args.string({description: 'The local Open_vSwitch database (default: unix:$OVS_RUNDIR/db.sock).'}),
  }

  static override flags = {
    'system-id': Flags.string({summary: 'The chassis name (overrides external_ids:system-id).', helpValue: 'NAME'}),
    'ovn-remote': Flags.string({summary: 'The Southbound database (overrides external_ids:ovn-remote).', helpValue: 'REMOTE'}),
    'encap-type': Flags.option({options: encapTypes, summary: 'Tunnel encapsulation (overrides external_ids:ovn-encap-type).'})(),
    'encap-ip': Flags.string({summary: 'Tunnel endpoint address (overrides external_ids:ovn-encap-ip).', helpValue: 'IP'}),
    bridge: Flags.string({summary: 'The integration bridge (overrides external_ids:ovn-bridge).', helpValue: 'BRIDGE'}),
    'monitor-all': Flags.boolean({summary: 'Monitor the whole Southbound (overrides external_ids:ovn-monitor-all).', allowNo: true}),
    switch: Flags.string({summary: 'How ovs-ofctl reaches the bridge (default: the bridge name, i.e. its mgmt socket in the run directory).', helpValue: 'TARGET'}),
    unixctl: Flags.string({summary: 'Control socket for ovs-appctl and ovnctl (default: ovnctl-controller-run.PID.ctl in the run directory).', helpValue: 'SOCKET'}),
    cache: Flags.string({
      summary: 'Keep the Southbound replica in FILE: a restart (and every reconnect) fetches only what changed, by history or difference digests.',
      helpValue: 'FILE',
    }),
    ...sslFlags({dbForm: false}),
    ...daemonFlags,
  }

  async run(): Promise<void> {
    const daemon = await this.startDaemon()
    const log = daemon.logger.module('controller')
    const f = this.flags
    const controller = new Controller(
      this.args.database ?? defaultRemote,
      {
        systemId: f['system-id'],
        remote: f['ovn-remote'],
        encapType: f['encap-type'],
        encapIp: f['encap-ip'],
        bridge: f.bridge,
        monitorAll: f['monitor-all'],
      },
      (level, message) => daemon.logger.log('controller', level, message),
      {switchTarget: f.switch, ssl: tlsSettingsOf(sslFlagValues(f)), sbCacheFile: f.cache === undefined ? undefined : path.resolve(f.cache)},
    )
    const control = new ControlServer()
    registerControllerCommands(control, controller, {version: this.config.version, exit: () => void this.shutdown.stop('SIGTERM')})
    const ctlPath = path.resolve(f.unixctl ?? path.join(process.env.OVS_RUNDIR ?? '/var/run/openvswitch', `ovnctl-controller-run.${process.pid}.ctl`))
    fs.mkdirSync(path.dirname(ctlPath), {recursive: true})
    await control.listen(ctlPath)
    this.onShutdown(() => control.close())
    this.onShutdown(() => controller.stop())
    controller.start()
    log.info(`controller started; control socket ${ctlPath}`)
    daemon.ready()
    await new Promise<never>(() => {})
  }
}
