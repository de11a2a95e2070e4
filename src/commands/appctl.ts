import {Args, Flags} from '@oclif/core'
import {OvnctlCommand} from '../core/cli/command.js'
import {failedError, usageError} from '../core/cli/exit.js'
import {timeoutFlag} from '../core/cli/flags.js'
import {connect, RpcError} from '../core/jsonrpc/index.js'
import {requestFailure} from '../core/idl/command-support.js'

/** `ovnctl appctl`: a command on a daemon's control socket, as `ovs-appctl -t SOCKET`. */
export default class Appctl extends OvnctlCommand<typeof Appctl> {
  static override summary = 'Run a command on a daemon\'s control socket, as ovs-appctl does.'
  static override description = `Sends COMMAND with its ARGs to the control socket of a running daemon (db-serve's \
--unixctl, or any Open vSwitch or OVN daemon's) and prints its answer on stdout. "list-commands" lists what the \
daemon understands. A command the daemon refuses exits 1 with its message on stderr.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> -t /var/run/openvswitch/ovnctl-db-serve.1234.ctl memory/show',
    '<%= config.bin %> <%= command.id %> -t ./db.ctl ovsdb-server/compact OVN_Southbound',
  ]

  static override strict = false

  static override args = {
    command: Args.string({description: 'The command, e.g. memory/show or ovsdb-server/compact.', required: true}),
    arg: Args.string({description: 'Arguments of the command; more may follow.'}),
  }

  static override flags = {
    target: Flags.string({char: 't', summary: 'The daemon\'s control socket (a path).', required: true, helpValue: 'SOCKET'}),
    timeout: timeoutFlag({defaultMs: 30_000}),
  }

  async run(): Promise<void> {
    const [command, ...args] = (await this.parse(Appctl)).argv as string[]
    const target = this.flags.target
    if (!target.includes('/')) throw usageError(`Invalid --target "${target}": give the control socket's path (e.g. ./db.ctl)`)
    let conn
    try {
      conn = await connect(`unix:${target}`, {timeoutMs: this.flags.timeout})
    } catch (err) {
      throw failedError((err as Error).message)
    }
    try {
      const result = await conn.request(command, args, {timeoutMs: this.flags.timeout})
      process.stdout.write(String(result))
    } catch (err) {
      if (err instanceof RpcError) throw failedError(`"${command}" failed: ${String(err.error).trim()}`)
      throw requestFailure(`"${command}" on "${target}"`, err)
    } finally {
      conn.close()
    }
  }
}
