/**
 * The control socket that `ovs-appctl -t SOCKET COMMAND ARGS...` talks to (ovs-appctl(8)): JSON-RPC where the
 * method is the command name, the params are its string arguments, and the result is text for a person
 * (or an error string).
 */
import {JsonRpcConnection, type Listener, listen, parseRemote} from '../jsonrpc/index.js'

/** One control command. */
export interface ControlCommand {
  usage: string
  argsMin: number
  argsMax: number
  run(args: string[]): string | Promise<string>
}

/** A failure of a control command; its message is what ovs-appctl prints. */
export class ControlError extends Error {}

/** A control socket with registered commands. */
export class ControlServer {
  private readonly commands = new Map<string, ControlCommand>()
  private listener: Listener | null = null
  private readonly conns = new Set<JsonRpcConnection>()

  constructor() {
    this.register('list-commands', {
      usage: '',
      argsMin: 0,
      argsMax: 0,
      run: () => this.listCommands(),
    })
  }

  /** Adds a command. */
  register(name: string, command: ControlCommand): void {
    this.commands.set(name, command)
  }

  private listCommands(): string {
    const lines = [...this.commands.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, c]) => `  ${name.padEnd(23)} ${c.usage}`)
    return `The available commands are:\n${lines.join('\n')}\n`
  }

  /** Runs a command as if it came over the socket (used by tests and by in-process callers). */
  async run(name: string, args: string[]): Promise<string> {
    const command = this.commands.get(name)
    if (command === undefined) throw new ControlError(`"${name}" is not a valid command (use "list-commands" to see a list of valid commands)`)
    if (args.length < command.argsMin) throw new ControlError(`"${name}" command requires at least ${command.argsMin} arguments`)
    if (args.length > command.argsMax) throw new ControlError(`"${name}" command takes at most ${command.argsMax} arguments`)
    return command.run(args)
  }

  /** Listens on a unix socket path. */
  async listen(path: string): Promise<void> {
    this.listener = await listen(parseRemote(`punix:${path}`), (socket) => {
      const conn = new JsonRpcConnection(socket, 'control', {probeIntervalMs: 0})
      this.conns.add(conn)
      conn.onClose(() => this.conns.delete(conn))
      conn.setHandler({
        onRequest: (method, params, id) => {
          const args = Array.isArray(params) ? params.map(String) : []
          Promise.resolve()
            .then(() => this.run(method, args))
            .then(
              (text) => conn.respond(id, text),
              (err: Error) => conn.send(JSON.stringify({id, error: err.message + (err.message.endsWith('\n') ? '' : '\n')})),
            )
        },
      })
    })
  }

  /** Stops listening and drops connections. */
  async close(): Promise<void> {
    for (const conn of this.conns) conn.close()
    await this.listener?.close()
  }
}
