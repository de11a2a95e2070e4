/**
 * The base class of every ovnctl command. It parses the flags (shared ones included), renders records, asks
 * for confirmation, draws progress, starts daemons, turns SIGINT into exit 130 and maps every error to its
 * exit code in one place (`catch`), printing it on stderr: text, or a JSON object under `--json`.
 *
 *     export default class DbDump extends OvnctlCommand<typeof DbDump> {
 *       static flags = {...outputFlags, timeout: timeoutFlag({defaultMs: 10_000})}
 *       async run() { this.printRecords(rows, {defaultColumns: ['_uuid', 'name']}) }
 *     }
 */
import {Command, Errors, type Interfaces} from '@oclif/core'
import type {ChalkInstance} from 'chalk'
import type {OutputRecord} from './cells.js'
import {chalkFor, type OutputStream} from './color.js'
import {Daemon, type DaemonFlagValues} from './daemon.js'
import {errorMessage, errorReport, exitCodeOf, ExitCode} from './exit.js'
import {globalFlags} from './flags.js'
import {argvWantsJson, formatRecords, type OutputFlagValues} from './output.js'
import {Progress, type ProgressOptions} from './progress.js'
import {confirmAction} from './prompt.js'
import type {ColumnChoice} from './render.js'
import {Shutdown, type ShutdownHook} from './signals.js'

/** The parsed flags of command class T, shared flags included. */
export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof OvnctlCommand)['baseFlags'] & T['flags']>

/** The parsed arguments of command class T. */
export type CommandArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/** Set OVNCTL_DEBUG=1 to print the stack of unexpected errors. */
const debugEnv = 'OVNCTL_DEBUG'

/** Base class giving each command the output contract; see the module comment. */
export abstract class OvnctlCommand<T extends typeof Command> extends Command {
  static override baseFlags = globalFlags

  /** Parsed flags (available from `run`). */
  protected flags!: CommandFlags<T>
  /** Parsed arguments (available from `run`). */
  protected args!: CommandArgs<T>
  /** SIGINT/SIGTERM handling; hooks registered through `onShutdown`. */
  protected readonly shutdown = new Shutdown()

  /** Aborted on SIGINT or SIGTERM: pass it to every wait. */
  protected get signal(): AbortSignal {
    return this.shutdown.signal
  }

  override async init(): Promise<void> {
    await super.init()
    this.shutdown.install()
    // A reader that went away (`| head`) is not an error of ours: stop quietly, as a killed pipeline would.
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(ExitCode.ok)
      throw e
    })
    const {flags, args} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof OvnctlCommand).baseFlags,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as CommandFlags<T>
    this.args = args as CommandArgs<T>
  }

  /** Registers a step for an orderly stop (close listeners, remove files); run newest first on a signal. */
  protected onShutdown(hook: ShutdownHook): () => void {
    return this.shutdown.add(hook)
  }

  /** A chalk instance for `stream`: colour only on a TTY, without NO_COLOR and --no-color. */
  protected chalkFor(stream: OutputStream): ChalkInstance {
    return chalkFor(stream, {noColor: this.outputFlags()['no-color']})
  }

  /** Prints records on stdout in the format the flags ask for (`outputFlags`). */
  protected printRecords(records: readonly OutputRecord[], choice: Omit<ColumnChoice, 'requested'> = {}): void {
    process.stdout.write(formatRecords(records, this.outputFlags(), {stdout: process.stdout, choice}))
  }

  /** A line for people on stderr (never stdout, which carries data only); silent under --json. */
  protected note(message: string): void {
    if (!this.jsonWanted()) process.stderr.write(message + '\n')
  }

  /** A warning on stderr, "warning:" in yellow on a terminal. Replaces oclif's, which ignores NO_COLOR. */
  override warn(input: string | Error): string | Error {
    const c = this.chalkFor(process.stderr)
    process.stderr.write(`${c.yellow('warning:')} ${errorMessage(input)}\n`)
    return input
  }

  /** Asks before a destructive action; needs --yes (`yesFlag`) without a terminal (exit 2). */
  protected async confirm(question: string, action: string): Promise<boolean> {
    const yes = (this.flags as {yes?: boolean}).yes === true
    return confirmAction(question, {yes, action})
  }

  /** A progress line on stderr, drawn only when stderr is a terminal. */
  protected progress(label: string, options: Omit<ProgressOptions, 'stream' | 'label'> = {}): Progress {
    return new Progress({stream: process.stderr, label, ...options})
  }

  /** Begins a daemon's life with the `daemonFlags` (pidfile, detach, log file); see `Daemon.start`. */
  protected startDaemon(): Promise<Daemon> {
    const flags = this.flags as DaemonFlagValues
    return Daemon.start(flags, {shutdown: this.shutdown, stderr: process.stderr, chalk: this.chalkFor(process.stderr)})
  }

  /** The one place where an error becomes a message on stderr and an exit code. */
  override async catch(err: Error & {exitCode?: number}): Promise<never> {
    // `this.exit(n)` throws an oclif ExitError: the command already said what it had to say.
    if ((err as {code?: unknown}).code === 'EEXIT') throw err
    const code = exitCodeOf(err)
    const chalk = this.chalkFor(process.stderr)
    const debug = Boolean(process.env[debugEnv])
    process.stderr.write(errorReport(err, {json: this.jsonWanted(), bin: this.config.bin, id: this.id, chalk, debug}))
    throw new Errors.ExitError(code)
  }

  override async finally(err: Error | undefined): Promise<void> {
    this.shutdown.uninstall()
    await super.finally(err)
  }

  private outputFlags(): OutputFlagValues {
    return (this.flags ?? {}) as OutputFlagValues
  }

  private jsonWanted(): boolean {
    const flags = this.outputFlags()
    return this.flags ? flags.json === true || flags.format === 'json' : argvWantsJson(this.argv)
  }
}
