/**
 * Connection methods as OVS names them (ovsdb-server(1) "--remote", ovsdb-client(1) SERVER): active
 * `unix:FILE`, `tcp:HOST:PORT` and `ssl:HOST:PORT`, passive `punix:FILE`, `ptcp:PORT[:IP]` and
 * `pssl:PORT[:IP]`. A comma-separated list of active remotes means "any of these", as OVS clients take it for
 * clusters. The ssl kinds run TLS (tls.ts) over the TCP stream.
 */
import fs from 'node:fs'
import net from 'node:net'
import {JsonRpcConnection} from './connection.js'
import type {ConnectionLimits} from './limits.js'
import {acceptTls, startTls, TlsError, type TlsContextSource} from './tls.js'

/** A parsed connection method. */
export type Remote =
  | {kind: 'unix' | 'punix'; path: string; text: string}
  | {kind: 'tcp' | 'ptcp' | 'ssl' | 'pssl'; host: string; port: number; text: string}

/** A remote string that cannot be used; the message names it. */
export class RemoteError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'RemoteError'
  }
}

function parsePort(text: string, port: string, allowZero: boolean): number {
  const n = Number(port)
  if (!/^\d+$/.test(port) || n > 65535 || (n === 0 && !allowZero)) {
    throw new RemoteError(`Invalid remote "${text}": port "${port}" is not a number from ${allowZero ? 0 : 1} to 65535`)
  }
  return n
}

/** Splits "HOST:PORT" or "[V6]:PORT". */
function splitHostPort(text: string, rest: string): [string, string] {
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']')
    if (close < 0 || rest[close + 1] !== ':') throw new RemoteError(`Invalid remote "${text}": expected "[IPv6]:PORT"`)
    return [rest.slice(1, close), rest.slice(close + 2)]
  }
  const colon = rest.lastIndexOf(':')
  if (colon < 0) throw new RemoteError(`Invalid remote "${text}": expected "HOST:PORT"`)
  return [rest.slice(0, colon), rest.slice(colon + 1)]
}

/** Parses one connection method such as "punix:/run/ovn/ovnsb_db.sock" or "ptcp:6642:127.0.0.1". */
export function parseRemote(text: string): Remote {
  const colon = text.indexOf(':')
  const kind = colon < 0 ? '' : text.slice(0, colon)
  const rest = text.slice(colon + 1)
  switch (kind) {
    case 'unix':
    case 'punix':
      if (rest === '') throw new RemoteError(`Invalid remote "${text}": missing socket path`)
      return {kind, path: rest, text}
    case 'tcp':
    case 'ssl': {
      const [host, port] = splitHostPort(text, rest)
      return {kind, host, port: parsePort(text, port, false), text}
    }
    case 'ptcp':
    case 'pssl': {
      // ptcp:PORT[:IP]; the IP may be a bracketed IPv6 address.
      const sep = rest.indexOf(':')
      const port = sep < 0 ? rest : rest.slice(0, sep)
      let host = sep < 0 ? '0.0.0.0' : rest.slice(sep + 1)
      if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1)
      return {kind, host, port: parsePort(text, port, true), text}
    }
    default:
      throw new RemoteError(`Invalid remote "${text}": expected unix:, punix:, tcp:, ptcp:, ssl: or pssl:`)
  }
}

/** True for the passive (listening) kinds. */
export function isPassive(remote: Remote): boolean {
  return remote.kind === 'punix' || remote.kind === 'ptcp' || remote.kind === 'pssl'
}

/** True for the kinds that run TLS. */
export function isSsl(remote: Remote): boolean {
  return remote.kind === 'ssl' || remote.kind === 'pssl'
}

/** TLS for ssl:/pssl: remotes: where the context comes from, and who hears about refused peers. */
export interface TlsUse {
  readonly tls?: TlsContextSource
  /** A pssl: peer failed the handshake (no certificate, not signed by the CA, old protocol). */
  readonly onRefused?: (peer: string, reason: string) => void
}

function requireTls(remote: Remote, use: TlsUse | undefined): TlsContextSource {
  if (use?.tls === undefined) {
    throw new TlsError(`Cannot use "${remote.text}": SSL needs a private key, a certificate and a CA certificate (--private-key, --certificate, --ca-cert)`)
  }
  use.tls.current() // refuse a configuration that cannot work before listening or connecting
  return use.tls
}

/** A listening socket; `address` is the bound port for ptcp (useful with port 0). */
export interface Listener {
  readonly remote: Remote
  readonly port: number | null
  close(): Promise<void>
}

/** Listens on a passive remote; every accepted connection is handed to `onConnection`. */
export async function listen(remote: Remote, onConnection: (socket: net.Socket) => void, use?: TlsUse): Promise<Listener> {
  if (!isPassive(remote)) throw new RemoteError(`Cannot listen on "${remote.text}": not a passive remote (punix:, ptcp: or pssl:)`)
  let accept = onConnection
  if (isSsl(remote)) {
    const source = requireTls(remote, use)
    accept = (raw) => {
      const peer = `${raw.remoteAddress}:${raw.remotePort}`
      raw.on('error', () => {}) // a peer that resets mid-handshake; acceptTls reports it
      acceptTls(raw, source).then(onConnection, (err: Error) => {
        raw.destroy()
        use?.onRefused?.(peer, err.message)
      })
    }
  }
  const server = net.createServer({noDelay: true}, accept)
  if ('path' in remote) {
    // ovsdb-server replaces a stale socket file left by a previous run.
    try {
      if (fs.statSync(remote.path).isSocket()) fs.unlinkSync(remote.path)
    } catch {}
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new RemoteError(`Cannot listen on "${remote.text}": ${err.message}`)))
    if ('path' in remote) server.listen(remote.path, resolve)
    else server.listen(remote.port, remote.host, resolve)
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : null
  return {
    remote,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        if ('path' in remote) fs.rmSync(remote.path, {force: true})
      }),
  }
}

/** Opens a stream to an active remote (a TLS stream, authenticated both ways, for ssl:). */
export async function connectSocket(remote: Remote, timeoutMs: number, use?: TlsUse): Promise<net.Socket> {
  if (!isSsl(remote)) return connectPlain(remote, timeoutMs)
  const source = requireTls(remote, use)
  const raw = await connectPlain(remote, timeoutMs)
  try {
    return await startTls(raw, source)
  } catch (err) {
    throw new TlsError(`Cannot connect to "${remote.text}": ${(err as Error).message}`)
  }
}

function connectPlain(remote: Remote, timeoutMs: number): Promise<net.Socket> {
  if (isPassive(remote)) throw new RemoteError(`Cannot connect to "${remote.text}": a passive remote only listens`)
  return new Promise((resolve, reject) => {
    const socket = 'path' in remote ? net.connect(remote.path) : net.connect(remote.port, remote.host)
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new RemoteError(`Cannot connect to "${remote.text}": no answer after ${timeoutMs} ms`))
    }, timeoutMs)
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.removeAllListeners('error')
      resolve(socket)
    })
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      reject(new RemoteError(`Cannot connect to "${remote.text}": ${describeErrno(err)}`))
    })
  })
}

/** Connects to the first reachable remote of a comma-separated list and returns a JSON-RPC connection. */
export async function connect(
  remotes: string,
  opts: {timeoutMs: number; limits?: Partial<ConnectionLimits>; tls?: TlsContextSource},
): Promise<JsonRpcConnection> {
  const list = remotes.split(',').map((r) => parseRemote(r.trim()))
  const failures: Error[] = []
  for (const remote of list) {
    try {
      const socket = await connectOnce(remote, opts.timeoutMs, opts.tls)
      return new JsonRpcConnection(socket, remote.text, {probeIntervalMs: 0, ...opts.limits})
    } catch (err) {
      failures.push(err as Error)
    }
  }
  const message = failures.map((f) => f.message).join('; ')
  // Every remote failed; when it was TLS that refused, say so (exit code 4 for the commands).
  throw failures.every((f) => f instanceof TlsError) ? new TlsError(message) : new RemoteError(message)
}

/** One attempt, and one more right after a CA was bootstrapped (the first connection only fetches it). */
async function connectOnce(remote: Remote, timeoutMs: number, tls: TlsContextSource | undefined): Promise<net.Socket> {
  try {
    return await connectSocket(remote, timeoutMs, {tls})
  } catch (err) {
    if (!(err instanceof TlsError) || !/Bootstrapped the CA/.test(err.message)) throw err
    return connectSocket(remote, timeoutMs, {tls})
  }
}

function describeErrno(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
      return 'no such socket file'
    case 'ECONNREFUSED':
      return 'connection refused'
    case 'EACCES':
      return 'permission denied'
    default:
      return err.message
  }
}
