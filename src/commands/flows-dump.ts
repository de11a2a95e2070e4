import {Flags} from '@oclif/core'
import {OvnctlCommand} from '../core/cli/command.js'
import {failedError, usageError} from '../core/cli/exit.js'
import {outputFlags, timeoutFlag} from '../core/cli/flags.js'
import type {FlowRecord, FlowsDocument} from '../core/controller/control-commands.js'
import {FilterError, annotateSwitchFlows, filterFlows, ofctlLine} from '../core/controller/flow-filter.js'
import {requestFailure} from '../core/idl/command-support.js'
import {connect, RpcError} from '../core/jsonrpc/index.js'
import {OfctlSwitch} from '../core/openflow/switch.js'

/** `ovnctl flows-dump`: the controller's flows, or the switch's, with their logical origin. */
export default class FlowsDump extends OvnctlCommand<typeof FlowsDump> {
  static override summary = 'Print the OpenFlow flows of a controller-run (or of its switch) with the logical flow each comes from.'
  static override description = `Asks the controller-run whose control socket is --target for its desired flow table and prints \
each flow with its origin: for a flow compiled from a logical flow, its UUID ("source"), stage, match and actions; \
for a flow of the physical pipeline, what it is for (port:NAME, multicast:NAME, tunnel:CHASSIS, ...). With --from \
switch the flows are read from the switch itself (ovs-ofctl dump-flows; --switch, or the controller's switch) and \
their origin is found by cookie, so a flow left by another controller shows as "unknown".

--table (repeatable), --datapath (name or tunnel key), --port (logical port name: its flows in its datapath) and \
--lflow (a logical flow UUID prefix) select flows. --ofctl prints them as ovs-ofctl dump-flows lines (ready for \
"ovs-ofctl add-flows"); otherwise --format table, json, csv or ndjson print records with columns table, priority, \
cookie, match, actions, origin, source, stage, lflow_match and lflow_actions.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --target ./ctl.ctl --datapath sw0 --table 8 --table 9',
    '<%= config.bin %> <%= command.id %> --target ./ctl.ctl --port sw0-p1 --format ndjson',
    '<%= config.bin %> <%= command.id %> --target ./ctl.ctl --from switch --lflow 5a1c --ofctl',
  ]

  static override flags = {
    target: Flags.string({char: 't', summary: 'The controller-run\'s control socket (a path).', required: true, helpValue: 'SOCKET'}),
    from: Flags.option({options: ['controller', 'switch'] as const, default: 'controller' as const, summary: 'Print the controller\'s desired flows, or the switch\'s installed flows.'})(),
    switch: Flags.string({summary: 'With --from switch: how ovs-ofctl reaches the switch (default: the controller\'s).', helpValue: 'TARGET'}),
    table: Flags.integer({summary: 'Only flows of this OpenFlow table (repeatable).', multiple: true, min: 0, max: 254}),
    datapath: Flags.string({summary: 'Only flows of this logical datapath (name, tunnel key or UUID prefix).', helpValue: 'DATAPATH'}),
    port: Flags.string({summary: 'Only flows of this logical port.', helpValue: 'PORT'}),
    lflow: Flags.string({summary: 'Only flows compiled from logical flows whose UUID starts with this.', helpValue: 'UUID'}),
    ofctl: Flags.boolean({summary: 'Print ovs-ofctl dump-flows lines instead of records.', exclusive: ['format', 'json', 'bare']}),
    timeout: timeoutFlag({defaultMs: 30_000}),
    ...outputFlags,
  }

  async run(): Promise<void> {
    const f = this.flags
    if (!f.target.includes('/')) throw usageError(`Invalid --target "${f.target}": give the control socket's path (e.g. ./ctl.ctl)`)
    if (f.lflow !== undefined && !/^[0-9a-f-]+$/.test(f.lflow)) throw usageError(`Invalid --lflow "${f.lflow}": give a prefix of a UUID (hex digits)`)
    const doc = await this.document()
    let records: FlowRecord[] = doc.flows
    if (f.from === 'switch') {
      try {
        records = annotateSwitchFlows(await new OfctlSwitch(f.switch ?? doc.switch).dumpFlows(), doc)
      } catch (err) {
        throw failedError((err as Error).message)
      }
    }
    try {
      records = filterFlows(records, {tables: f.table, datapath: f.datapath, port: f.port, lflow: f.lflow}, doc)
    } catch (err) {
      if (err instanceof FilterError) throw usageError(err.message)
      throw err
    }
    records.sort((a, b) => a.table - b.table || b.priority - a.priority || (a.match < b.match ? -1 : a.match > b.match ? 1 : 0))
    if (f.ofctl) process.stdout.write(records.map((r) => ofctlLine(r) + '\n').join(''))
    else this.printRecords(records as unknown as Array<Record<string, unknown>>, {defaultColumns: ['table', 'priority', 'match', 'actions', 'stage', 'source']})
  }

  private async document(): Promise<FlowsDocument> {
    let conn
    try {
      conn = await connect(`unix:${this.flags.target}`, {timeoutMs: this.flags.timeout})
    } catch (err) {
      throw failedError((err as Error).message)
    }
    try {
      return JSON.parse(String(await conn.request('flows/json', [], {timeoutMs: this.flags.timeout}))) as FlowsDocument
    } catch (err) {
      if (err instanceof RpcError) throw failedError(`"flows/json" failed: ${String(err.error).trim()}`)
      throw requestFailure(`"flows/json" on "${this.flags.target}"`, err)
    } finally {
      conn.close()
    }
  }
}
