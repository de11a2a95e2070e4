/**
 * The listening sockets shared by I/O threads. Threads share the process's file descriptors but a worker cannot
 * receive a net.Server, so the database thread binds each passive remote and hands the descriptor's number to
 * every I/O thread, which listens on it (`listen({fd})`): the kernel then spreads accepted connections over the
 * threads polling it. The database thread itself only binds (bind(2) without listen(2)), so that it never
 * polls the socket and never accepts a client: its time goes to transactions. Node has no public call that
 * binds without listening; the handle classes of its own net module do (pipe_wrap, tcp_wrap).
 */
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import util from 'node:util'
import {isPassive, isSsl, parseRemote, type Remote} from '../jsonrpc/index.js'

/** A bound (not yet listening) socket of a passive remote. */
export interface BoundSocket {
  readonly remote: Remote
  readonly fd: number
  /** The port bound (ptcp:0 picks one), or null for punix. */
  readonly port: number | null
  /** Makes a unix socket reachable at its path, once the threads listen (a client finds no half-ready socket). */
  publish(): void
}

interface Handle {
  readonly fd: number
  bind(path: string): number
  bind(host: string, port: number): number
  bind6(host: string, port: number, flags: number): number
  getsockname(out: {port?: number}): number
}

type HandleClass = {new (type: number): Handle}

function handleClass(binding: 'pipe_wrap' | 'tcp_wrap'): {cls: HandleClass; server: number} {
  const b = (process as unknown as {binding(name: string): Record<string, unknown>}).binding(binding)
  const cls = (binding === 'pipe_wrap' ? b.Pipe : b.TCP) as HandleClass
  return {cls, server: (b.constants as {SERVER: number}).SERVER}
}

/**
 * Handles stay referenced for the life of the process and are never closed here: once an I/O thread exits, it
 * has closed the descriptor, whose number may already name another file.
 */
const held: Handle[] = []

function check(code: number, remote: Remote): void {
  if (code !== 0) throw new Error(`Cannot listen on "${remote.text}": ${util.getSystemErrorName(code)}`)
}

/** Refuses a remote I/O threads cannot serve, with the reason. */
export function checkThreadedRemote(text: string): Remote {
  if (text.startsWith('db:')) throw new Error(`--io-threads serves punix: and ptcp: remotes only: "${text}" names remotes that change with the database`)
  const remote = parseRemote(text)
  if (!isPassive(remote) || isSsl(remote)) {
    throw new Error(`--io-threads serves punix: and ptcp: remotes only: "${text}" is ${isSsl(remote) ? 'an SSL remote (its TLS would have to run in every thread)' : 'not a passive remote'}`)
  }
  return remote
}

/** Binds a punix: or ptcp: remote without listening. */
export function bindSocket(remote: Remote): BoundSocket {
  if ('path' in remote) {
    const {cls, server} = handleClass('pipe_wrap')
    const handle = new cls(server)
    // Bound under a temporary name and renamed once served, replacing a stale socket file as ovsdb-server does.
    const temp = path.join(path.dirname(remote.path), `.${path.basename(remote.path)}.${process.pid}.tmp`)
    fs.rmSync(temp, {force: true})
    check(handle.bind(temp), remote)
    held.push(handle)
    return {remote, fd: handle.fd, port: null, publish: () => fs.renameSync(temp, remote.path)}
  }
  const {cls, server} = handleClass('tcp_wrap')
  const handle = new cls(server)
  check(net.isIPv6(remote.host) ? handle.bind6(remote.host, remote.port, 0) : handle.bind(remote.host, remote.port), remote)
  held.push(handle)
  const out: {port?: number} = {}
  handle.getsockname(out)
  return {remote, fd: handle.fd, port: out.port ?? remote.port, publish: () => {}}
}

/** Removes what a bound socket left in the file system (at shutdown). */
export function unbindSocket(bound: BoundSocket): void {
  if ('path' in bound.remote) fs.rmSync(bound.remote.path, {force: true})
}
