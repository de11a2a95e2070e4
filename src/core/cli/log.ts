/**
 * Structured log lines for daemons, in the layout of Open vSwitch's vlog file format (ovs-vswitchd(8)
 * "--log-file", ovs-appctl(8) "vlog/set" PATTERN `%D{%Y-%m-%dT%H:%M:%S.###Z}|%05N|%c|%p|%m`):
 *
 *     2026-11-24T09:00:00.000Z|00001|raft|INFO|became leader of term 3
 *
 * UTC time with milliseconds, a per-process sequence number, the module, the level (EMER ERR WARN INFO DBG)
 * and the message with control characters escaped, so one event is always one line and `grep`/`cut -d'|'`
 * work on it as on OVS logs. Lines go to stderr, or to `--log-file` (appended, reopened on SIGHUP).
 */
import fs from 'node:fs'
import type {ChalkInstance} from 'chalk'
import {escapeControls} from './cells.js'
import type {OutputStream} from './color.js'

/** vlog's levels, most severe first. */
export const logLevels = ['EMER', 'ERR', 'WARN', 'INFO', 'DBG'] as const

/** One of `logLevels`. */
export type LogLevel = (typeof logLevels)[number]

/** Where log lines go: a stream (stderr) or a file appended to synchronously, so no line is lost on exit. */
export type LogSink = {kind: 'stream'; stream: OutputStream; chalk?: ChalkInstance} | {kind: 'file'; path: string} | {kind: 'none'}

/** Formats one log line (without the newline). */
export function formatLogLine(entry: {time: Date; seq: number; module: string; level: LogLevel; message: string}): string {
  const seq = String(entry.seq).padStart(5, '0')
  return `${entry.time.toISOString()}|${seq}|${entry.module}|${entry.level}|${escapeControls(entry.message)}`
}

/** Logs for one module of the program ("raft", "jsonrpc", "db-serve"). */
export interface ModuleLog {
  err(message: string): void
  warn(message: string): void
  info(message: string): void
  dbg(message: string): void
}

const levelStyle: Partial<Record<LogLevel, (c: ChalkInstance, s: string) => string>> = {
  EMER: (c, s) => c.red.bold(s),
  ERR: (c, s) => c.red(s),
  WARN: (c, s) => c.yellow(s),
  DBG: (c, s) => c.dim(s),
}

/** A process-wide logger: one sequence, one sink, one threshold. */
export class Logger {
  private seq = 0
  private fd: number | null = null

  constructor(
    private sink: LogSink,
    private readonly options: {level?: LogLevel; now?: () => Date} = {},
  ) {
    this.open()
  }

  /** A logger for one module. */
  module(name: string): ModuleLog {
    return {
      err: (m) => this.log(name, 'ERR', m),
      warn: (m) => this.log(name, 'WARN', m),
      info: (m) => this.log(name, 'INFO', m),
      dbg: (m) => this.log(name, 'DBG', m),
    }
  }

  /** Writes one line if `level` is at or above the threshold (INFO by default). */
  log(module: string, level: LogLevel, message: string): void {
    const threshold = logLevels.indexOf(this.options.level ?? 'INFO')
    if (logLevels.indexOf(level) > threshold) return
    const line = formatLogLine({time: (this.options.now ?? (() => new Date()))(), seq: ++this.seq, module, level, message})
    const sink = this.sink
    if (sink.kind === 'file' && this.fd !== null) fs.writeSync(this.fd, line + '\n')
    if (sink.kind === 'stream') {
      const style = levelStyle[level]
      sink.stream.write((style && sink.chalk ? style(sink.chalk, line) : line) + '\n')
    }
  }

  /** Sends further lines elsewhere (after --detach, stderr is gone: lines go to the log file or nowhere). */
  setSink(sink: LogSink): void {
    this.close()
    this.sink = sink
    this.open()
  }

  /** Reopens the log file (after logrotate moved it; wired to SIGHUP by the daemon helper). */
  reopen(): void {
    this.close()
    this.open()
  }

  /** Closes the log file. */
  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd)
    this.fd = null
  }

  private open(): void {
    if (this.sink.kind === 'file') this.fd = fs.openSync(this.sink.path, 'a')
  }
}
