/**
 * Orderly stop on SIGINT and SIGTERM: abort the command's AbortSignal, run the registered shutdown hooks (close
 * listeners, remove the pidfile, flush the log) newest first, then exit with the signal's code: 130 for SIGINT
 * (128 + 2, as shells report Ctrl-C), 143 for SIGTERM, or 0 for SIGTERM in a daemon, for which it is the
 * normal way to stop (systemd.kill(5)). A second signal during the shutdown exits at once.
 */

/** How long shutdown hooks may take before the process exits anyway. */
export const shutdownGraceMs = 5000

/** The signals that stop a command. */
export type StopSignal = 'SIGINT' | 'SIGTERM'

/** A hook run on shutdown; may be async. */
export type ShutdownHook = () => unknown

/** Options of a Shutdown: how to exit (injected for tests) and where to say what happened. */
export interface ShutdownOptions {
  exit?: (code: number) => void
  /** Called with a one-line note (e.g. a hook that failed or timed out); stderr by default. */
  note?: (message: string) => void
  graceMs?: number
}

/** Owns the process's reaction to SIGINT and SIGTERM for one command run. */
export class Shutdown {
  /** Exit code per signal; a daemon sets SIGTERM to 0. */
  readonly exitCodes: Record<StopSignal, number> = {SIGINT: 130, SIGTERM: 143}
  private readonly controller = new AbortController()
  private readonly hooks: ShutdownHook[] = []
  private readonly listeners = new Map<StopSignal, () => void>()
  private stopping = false

  constructor(private readonly options: ShutdownOptions = {}) {}

  /** Aborted when a stop signal arrives; commands pass it to their waits. */
  get signal(): AbortSignal {
    return this.controller.signal
  }

  /** Registers a hook; returns a function that unregisters it. */
  add(hook: ShutdownHook): () => void {
    this.hooks.push(hook)
    return () => {
      const i = this.hooks.indexOf(hook)
      if (i >= 0) this.hooks.splice(i, 1)
    }
  }

  /** Starts listening for SIGINT and SIGTERM. */
  install(): void {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      const listener = () => void this.stop(sig)
      this.listeners.set(sig, listener)
      process.on(sig, listener)
    }
  }

  /** Stops listening (the command finished normally). */
  uninstall(): void {
    for (const [sig, listener] of this.listeners) process.off(sig, listener)
    this.listeners.clear()
  }

  /** Runs the hooks, newest first, each bounded by the grace time, then exits with the signal's code. */
  async stop(sig: StopSignal): Promise<void> {
    const exit = this.options.exit ?? ((code: number) => process.exit(code))
    const note = this.options.note ?? ((m: string) => process.stderr.write(m + '\n'))
    const code = this.exitCodes[sig]
    if (this.stopping) return exit(code)
    this.stopping = true
    const err = new Error(sig === 'SIGINT' ? 'Interrupted' : 'Terminated')
    err.name = 'AbortError'
    this.controller.abort(err)
    const graceMs = this.options.graceMs ?? shutdownGraceMs
    for (const hook of [...this.hooks].reverse()) {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), graceMs)
      })
      try {
        const outcome = await Promise.race([Promise.resolve(hook()), timeout])
        if (outcome === 'timeout') note(`Shutdown step did not finish: gave up after ${graceMs} ms`)
      } catch (e) {
        note(`Shutdown step failed: ${e instanceof Error ? e.message : String(e)}`)
      } finally {
        clearTimeout(timer)
      }
    }
    exit(code)
  }
}
