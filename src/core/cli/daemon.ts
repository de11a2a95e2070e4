/**
 * What `db-serve` and `controller-run` share as daemons (ovsdb-server(1) "Daemon Options"): a log, a pidfile
 * written once listening and removed on exit, `--detach`, and a clean stop on SIGTERM and SIGINT.
 *
 * `--detach`: the parent starts a child running the same argv minus `--detach`, in its own session, with an IPC
 * channel. It relays the child's stderr until the child says it is ready (listening, pidfile written), then
 * exits 0; if the child exits first, the parent exits with the child's code. After that the child has no
 * stderr: it logs to `--log-file` or nowhere, as OVS daemons do once detached.
 */
import {spawn} from 'node:child_process'
import path from 'node:path'
import type {ChalkInstance} from 'chalk'
import {ExitCode} from './exit.js'
import type {OutputStream} from './color.js'
import {Logger} from './log.js'
import {checkPidfile, removePidfile, writePidfile} from './pidfile.js'
import type {Shutdown} from './signals.js'

/** Environment variable that marks the detached child (so it does not detach again). */
export const detachedChildEnv = 'OVNCTL_DETACHED_CHILD'

/** How long the detaching parent waits for the child to be ready. */
export const detachReadyTimeoutMs = 60_000

/** The message the child sends its parent over IPC once ready. */
const readyMessage = 'ovnctl-daemon-ready'

/** The parsed daemon flags (see `daemonFlags`). */
export interface DaemonFlagValues {
  pidfile?: string
  detach?: boolean
  'log-file'?: string
  verbose?: boolean
}

/** argv without `--detach` (before a `--` only), for the child. */
export function argvWithoutDetach(argv: readonly string[]): string[] {
  const end = argv.indexOf('--')
  const head = end < 0 ? argv : argv.slice(0, end)
  const tail = end < 0 ? [] : argv.slice(end)
  return [...head.filter((a) => a !== '--detach'), ...tail]
}

/** Whether this process is the child started by `--detach`. */
export function isDetachedChild(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[detachedChildEnv] === '1'
}

/**
 * Starts the detached child and resolves with the exit code the parent should leave with: 0 once the child is
 * ready, the child's own code if it exits first, 5 if it is not ready within `readyTimeoutMs` (it is then
 * sent SIGTERM).
 */
export function detach(options: {stderr: OutputStream; argv?: readonly string[]; readyTimeoutMs?: number}): Promise<number> {
  const args = [...process.execArgv, ...argvWithoutDetach(options.argv ?? process.argv.slice(1))]
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: {...process.env, [detachedChildEnv]: '1'},
  })
  const timeoutMs = options.readyTimeoutMs ?? detachReadyTimeoutMs
  return new Promise((resolve) => {
    const finish = (code: number) => {
      clearTimeout(timer)
      child.removeAllListeners()
      child.stderr?.removeAllListeners().destroy()
      if (child.connected) child.disconnect()
      child.unref()
      resolve(code)
    }
    const timer = setTimeout(() => {
      options.stderr.write(`Daemon did not become ready: gave up after ${timeoutMs} ms\n`)
      if (child.pid !== undefined) process.kill(child.pid, 'SIGTERM')
      finish(ExitCode.timeout)
    }, timeoutMs)
    child.stderr?.on('data', (chunk: Buffer) => options.stderr.write(chunk.toString()))
    child.on('message', (m) => m === readyMessage && finish(ExitCode.ok))
    child.on('error', (e) => {
      options.stderr.write(`Cannot start daemon: ${e.message}\n`)
      finish(ExitCode.failed)
    })
    child.on('exit', (code, signal) => finish(code ?? (signal === 'SIGINT' ? ExitCode.interrupted : ExitCode.failed)))
  })
}

/** A running daemon: its logger, and the steps of its life (ready, stop). */
export class Daemon {
  private constructor(
    /** The daemon's logger (stderr or --log-file). */
    readonly logger: Logger,
    private readonly flags: DaemonFlagValues,
    private readonly pidfile: string | undefined,
  ) {}

  /**
   * Begins a daemon's life. Refuses at once if the pidfile is held by a live process. With `--detach` in the
   * parent, starts the child and exits the process (never returns). Registers with `shutdown` so that SIGTERM
   * stops with exit 0, removes the pidfile and closes the log.
   */
  static async start(
    flags: DaemonFlagValues,
    options: {shutdown: Shutdown; stderr: OutputStream; chalk?: ChalkInstance; exit?: (code: number) => never},
  ): Promise<Daemon> {
    const pidfile = flags.pidfile === undefined ? undefined : path.resolve(flags.pidfile)
    if (pidfile) checkPidfile(pidfile)
    if (flags.detach && !isDetachedChild()) {
      const code = await detach({stderr: options.stderr})
      ;(options.exit ?? process.exit)(code)
    }
    const level = flags.verbose ? 'DBG' : 'INFO'
    const logFile = flags['log-file'] === undefined ? undefined : path.resolve(flags['log-file'])
    const sink = logFile ? ({kind: 'file', path: logFile} as const) : ({kind: 'stream', stream: options.stderr, chalk: options.chalk} as const)
    const daemon = new Daemon(new Logger(sink, {level}), flags, pidfile)
    options.shutdown.exitCodes.SIGTERM = ExitCode.ok
    options.shutdown.add(() => daemon.stop())
    // Log rotation: reopen the file on SIGHUP. Without a log file SIGHUP keeps its default (terminal hangup ends us).
    if (logFile) process.on('SIGHUP', () => daemon.logger.reopen())
    return daemon
  }

  /** Call once the daemon serves: writes the pidfile and releases a detaching parent. */
  ready(): void {
    if (this.pidfile) writePidfile(this.pidfile)
    if (isDetachedChild() && process.send) {
      process.send(readyMessage)
      process.disconnect?.()
      // The parent is gone with our stderr: writing there would fail with EPIPE.
      process.stderr.on('error', () => {})
      if (!this.flags['log-file']) this.logger.setSink({kind: 'none'})
    }
  }

  /** Removes the pidfile and closes the log (a shutdown hook; also call it after a normal return). */
  stop(): void {
    if (this.pidfile) removePidfile(this.pidfile)
    this.logger.close()
  }
}
