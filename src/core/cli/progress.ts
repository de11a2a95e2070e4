/**
 * Progress of long work (loading a database, transferring a snapshot, reconciling, recomputing): one line on
 * stderr, redrawn at most every `redrawIntervalMs`, only when stderr is a terminal. Piped, it prints nothing,
 * so logs and scripts see no carriage returns or escape codes.
 */
import type {OutputStream} from './color.js'

/** Shortest time between two redraws: fast enough to look live, slow enough to cost nothing. */
export const progressRedrawIntervalMs = 100

/** What a progress line counts and where it goes. */
export interface ProgressOptions {
  /** Where to draw (stderr). Drawing happens only if it is a TTY, unless `enabled` says otherwise. */
  stream: OutputStream
  /** What is being done: "Loading", "Sending snapshot". */
  label: string
  /** The amount when done, if known (shows "n/total (p%)"). */
  total?: number
  /** "bytes" shows sizes and byte rates (KiB, MiB); any other word names the items ("rows", "flows"). */
  unit?: string
  /** Clock in milliseconds (injected so tests control it); performance.now by default. */
  now?: () => number
  /** Overrides the TTY check (tests, or a command's --no-progress). */
  enabled?: boolean
  redrawIntervalMs?: number
}

/** Formats a byte count with binary units: "512 B", "1.5 KiB", "12.0 MiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = n
  let i = 0
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024
    i++
  }
  return i === 0 ? `${n} B` : `${value.toFixed(1)} ${units[i]}`
}

/** A throttled progress line: call `update`/`tick` as often as you like, `end` once. */
export class Progress {
  /** Whether anything is drawn at all (stderr is a TTY). */
  readonly enabled: boolean
  private doneCount = 0
  private readonly started: number
  private lastDraw = Number.NEGATIVE_INFINITY
  private readonly now: () => number
  private readonly interval: number
  private drawn = false

  constructor(private readonly options: ProgressOptions) {
    this.enabled = options.enabled ?? options.stream.isTTY === true
    this.now = options.now ?? (() => performance.now())
    this.interval = options.redrawIntervalMs ?? progressRedrawIntervalMs
    this.started = this.now()
  }

  /** Sets the amount when done, once it is known. */
  setTotal(total: number): void {
    this.options.total = total
  }

  /** Sets the amount done so far. */
  update(done: number): void {
    this.doneCount = done
    if (!this.enabled) return
    const t = this.now()
    if (t - this.lastDraw < this.interval) return
    this.lastDraw = t
    this.draw(t)
  }

  /** Adds `n` to the amount done. */
  tick(n = 1): void {
    this.update(this.doneCount + n)
  }

  /** The line as it would be drawn now (without the carriage return and erase codes). */
  text(at = this.now()): string {
    const {label, total, unit = 'items'} = this.options
    const bytes = unit === 'bytes'
    const amount = (n: number) => (bytes ? formatBytes(n) : String(n))
    let line = `${label}: ${amount(this.doneCount)}`
    if (total !== undefined) {
      line += `/${amount(total)}`
      if (total > 0) line += ` (${Math.floor((100 * this.doneCount) / total)}%)`
    }
    if (!bytes) line += ` ${unit}`
    const seconds = (at - this.started) / 1000
    if (seconds >= 1) {
      const rate = this.doneCount / seconds
      line += bytes ? `, ${formatBytes(Math.round(rate))}/s` : `, ${Math.round(rate)}/s`
    }
    return line
  }

  /** Erases the line (the command reports the outcome itself). */
  end(): void {
    if (this.drawn) this.options.stream.write('\r\x1b[K')
    this.drawn = false
  }

  private draw(at: number): void {
    // \r returns to column 0, ESC [ K erases what a longer previous line left (ECMA-48 EL).
    this.options.stream.write(`\r${this.text(at)}\x1b[K`)
    this.drawn = true
  }
}
