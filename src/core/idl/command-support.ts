/** What ovnctl's client commands share: the default server, connecting with errors for operators, picking the database. */
import {CliError, ExitCode, failedError, timeoutError, usageError} from '../cli/exit.js'
import {RequestTimeoutError, RpcError, describeRpcError} from '../jsonrpc/index.js'
import {OvsdbClient} from './client.js'

/** The server ovsdb-client talks to by default (ovsdb-client(1)): the Open vSwitch database socket. */
export const defaultRemote = `unix:${process.env.OVS_RUNDIR ?? '/var/run/openvswitch'}/db.sock`

/** Connects for a command: a bad remote is a usage error, no answer in time is a timeout, else a failure. */
export async function connectForCommand(remote: string, timeoutMs: number): Promise<OvsdbClient> {
  try {
    return await OvsdbClient.connect(remote, timeoutMs)
  } catch (err) {
    const message = (err as Error).message
    if (/^Invalid remote|^Unsupported remote/.test(message)) throw usageError(message)
    if (/no answer after/.test(message)) throw timeoutError(`Cannot connect to "${remote}"`, timeoutMs)
    throw new CliError(message, ExitCode.failed)
  }
}

/** The database to use: the one named, or the only one the server has besides _Server. */
export async function defaultDatabase(client: OvsdbClient, named: string | undefined): Promise<string> {
  const dbs = await client.listDbs()
  if (named !== undefined) {
    if (!dbs.includes(named)) throw usageError(`Unknown database "${named}": the server has ${dbs.map((d) => `"${d}"`).join(', ')}`)
    return named
  }
  const own = dbs.filter((d) => d !== '_Server')
  if (own.length !== 1) throw usageError(`Name a database: the server has ${own.map((d) => `"${d}"`).join(', ') || 'none'}`)
  return own[0]
}

/** Maps a failed request to the exit-code contract: timeouts exit 5, server errors and lost connections 1. */
export function requestFailure(what: string, err: unknown): CliError {
  if (err instanceof CliError) return err
  if (err instanceof RequestTimeoutError) return timeoutError(what, err.timeoutMs, 'no reply')
  if (err instanceof RpcError) return failedError(`${what}: ${describeRpcError(err.error)}`)
  return failedError(`${what}: ${(err as Error).message}`)
}
