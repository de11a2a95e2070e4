/** What ovnctl's client commands share: the default server, connecting with errors for operators, picking the database. */
import {authError, CliError, ExitCode, failedError, timeoutError, usageError} from '../cli/exit.js'
import {RequestTimeoutError, RpcError, describeRpcError, type SslFlagValues, TlsContextSource, TlsError, type TlsSettings, peerRefusedText} from '../jsonrpc/index.js'
import {OvsdbClient} from './client.js'

/** The server ovsdb-client talks to by default (ovsdb-client(1)): the Open vSwitch database socket. */
export const defaultRemote = `unix:${process.env.OVS_RUNDIR ?? '/var/run/openvswitch'}/db.sock`

/** The TLS settings of a client's SSL flags (--bootstrap-ca-cert names the CA file too). */
export function tlsSettingsOf(ssl: SslFlagValues): TlsSettings {
  return {
    privateKey: ssl.privateKey,
    certificate: ssl.certificate,
    caCert: ssl.bootstrapCaCert ?? ssl.caCert,
    bootstrapCaCert: ssl.bootstrapCaCert !== undefined,
    protocols: ssl.sslProtocols,
    ciphers: ssl.sslCiphers,
  }
}

/** The TLS a client command uses for ssl: remotes, from its SSL flags; undefined when none is given. */
export function clientTls(ssl: SslFlagValues | undefined): TlsContextSource | undefined {
  if (ssl === undefined || Object.values(ssl).every((v) => v === undefined)) return undefined
  return TlsContextSource.of(tlsSettingsOf(ssl), (_level, m) => process.stderr.write(`ovnctl: ${m}\n`))
}

/**
 * Connects for a command: a bad remote is a usage error, a TLS refusal or unusable key exit 4, no answer in
 * time a timeout, else a failure.
 */
export async function connectForCommand(remote: string, timeoutMs: number, ssl?: SslFlagValues): Promise<OvsdbClient> {
  try {
    return await OvsdbClient.connect(remote, timeoutMs, clientTls(ssl))
  } catch (err) {
    const message = (err as Error).message
    if (err instanceof TlsError) throw authError(message)
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

/** The exit-4 error for a request that failed because the server refused our certificate (TLS 1.3), else null. */
export function peerRefusal(what: string, err: unknown): CliError | null {
  const message = (err as Error)?.message
  return typeof message === 'string' && message.includes(peerRefusedText) ? authError(`${what}: ${message}`) : null
}

/** Maps a failed request to the exit-code contract: timeouts exit 5, server errors and lost connections 1. */
export function requestFailure(what: string, err: unknown): CliError {
  if (err instanceof CliError) return err
  const refused = peerRefusal(what, err)
  if (refused !== null) return refused
  if (err instanceof RequestTimeoutError) return timeoutError(what, err.timeoutMs, 'no reply')
  if (err instanceof RpcError) return failedError(`${what}: ${describeRpcError(err.error)}`)
  return failedError(`${what}: ${(err as Error).message}`)
}
