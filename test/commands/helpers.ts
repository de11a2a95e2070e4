/**
 * What the command tests share: a served Northbound database holding two switches, readers for every output
 * format (so a test checks that stdout parses, not only that it looks right), long-running commands that are
 * watched line by line, and servers that misbehave on purpose (one that never answers, one that refuses).
 */
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import net from 'node:net'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {binRun, childEnv, type RunResult} from '../cli/spawn.js'
import {ok, useFreshServer, type FreshServer} from '../interop/lib.js'

export {parseCsv} from '../cli/csv.js'

/** The two switches every suite starts with: one plain, one whose name needs CSV quoting; sw0 has two ports. */
export const switchNames = ['sw0', 'sw1, "blue"'] as const

/** A served NB database seeded with `switchNames`; `db` is the `--db=unix:SOCKET` flag. */
export interface SeededServer extends FreshServer {
  db: string
}

/** Registers mocha hooks: serve a fresh NB database with `db-serve`, seed it with `db-transact`, stop it after. */
export function useSeededServer(): SeededServer {
  const seeded = useFreshServer() as SeededServer
  before(async () => {
    seeded.db = `--db=${seeded.remote}`
    const txn = [
      'OVN_Northbound',
      {op: 'insert', table: 'Logical_Switch_Port', row: {name: 'lp0'}, 'uuid-name': 'p0'},
      {op: 'insert', table: 'Logical_Switch_Port', row: {name: 'lp1'}, 'uuid-name': 'p1'},
      {op: 'insert', table: 'Logical_Switch', row: {name: switchNames[0], ports: ['set', [['named-uuid', 'p0'], ['named-uuid', 'p1']]]}},
      {op: 'insert', table: 'Logical_Switch', row: {name: switchNames[1]}},
    ]
    await ok('ovnctl', ['db-transact', seeded.db, JSON.stringify(txn)])
  })
  return seeded
}

/** Inserts a switch through `db-transact` (a change for monitors to see). */
export async function insertSwitch(db: string, name: string): Promise<void> {
  await ok('ovnctl', ['db-transact', db, JSON.stringify(['OVN_Northbound', {op: 'insert', table: 'Logical_Switch', row: {name}}])])
}

/** Reads ndjson: every line one JSON object, nothing else (no blank line, no trailing text). */
export function parseNdjson(text: string): Record<string, unknown>[] {
  if (text === '') return []
  if (!text.endsWith('\n')) throw new Error(`ndjson does not end with a line break: ${JSON.stringify(text)}`)
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      const value = JSON.parse(line) as unknown
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`ndjson line is not an object: ${line}`)
      return value as Record<string, unknown>
    })
}

/**
 * Reads a plain (piped) table: a heading line, a line of dashes whose runs give the column widths, then rows
 * cut at the same widths. Returns the headings and the rows, cells trimmed.
 */
export function parsePlainTable(text: string): {headings: string[]; rows: string[][]} {
  const lines = text.replace(/\n$/, '').split('\n')
  const dashes = lines[1] ?? ''
  if (!/^-+( -+)*$/.test(dashes)) throw new Error(`second line is not a rule of dashes: ${JSON.stringify(text)}`)
  const spans: Array<[number, number]> = []
  for (const m of dashes.matchAll(/-+/g)) spans.push([m.index, m.index + m[0].length])
  const cut = (line: string) => spans.map(([from, to], i) => line.slice(from, i === spans.length - 1 ? undefined : to).trim())
  return {headings: cut(lines[0]), rows: lines.slice(2).map(cut)}
}

/** Reads a boxed (terminal) table: the cells of every "│ a │ b │" line, heading first, box corners checked. */
export function parseBoxTable(text: string): string[][] {
  const lines = text.replace(/\n$/, '').split('\n')
  if (!lines[0]?.startsWith('┌') || !lines.at(-1)?.startsWith('└')) throw new Error(`not a boxed table: ${JSON.stringify(text)}`)
  return lines.filter((l) => l.startsWith('│')).map((l) => l.slice(1, -1).split('│').map((c) => c.trim()))
}

/** Removes SGR sequences (colour, bold) so boxed text can be read. */
export function stripSgr(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '')
}

/** Polls `check` every 25 ms for at most `limitMs` (a wait for another process, not a timed assertion). */
export async function until(check: () => boolean, limitMs = 10_000): Promise<boolean> {
  for (let waited = 0; waited < limitMs; waited += 25) {
    if (check()) return true
    await sleep(25)
  }
  return check()
}

/** An ovnctl process left running (db-monitor, db-serve in the foreground), watched as it writes. */
export interface Running {
  child: ChildProcess
  stdout(): string
  stderr(): string
  /** Resolves with the result once the process ends (killed with SIGKILL after `limitMs`, default 15 s). */
  exited: Promise<RunResult>
  /** Whether the process has ended. */
  done(): boolean
}

/** Starts `bin/run.js ARGS` with pipes and leaves it running. */
export function startOvnctl(args: readonly string[], options: {env?: Record<string, string>; limitMs?: number} = {}): Running {
  const child = spawn(process.execPath, [binRun, ...args], {env: childEnv(options.env), stdio: ['ignore', 'pipe', 'pipe']})
  let out = ''
  let err = ''
  let ended = false
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d))
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
  const timer = setTimeout(() => child.kill('SIGKILL'), options.limitMs ?? 15_000)
  const exited = new Promise<RunResult>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      ended = true
      resolve({code, signal, stdout: out, stderr: err})
    })
  })
  return {child, exited, stdout: () => out, stderr: () => err, done: () => ended}
}

/** Kills a process a test started, if it still runs (cleanup after a failed assertion). */
export function killIfRunning(r: Running | undefined): void {
  if (r && !r.done()) r.child.kill('SIGKILL')
}

/** A unix-socket server that accepts every connection and never answers: the peer of `--timeout` tests. */
export async function startSilentServer(dir: string): Promise<{path: string; close(): Promise<void>}> {
  const file = path.join(dir, 'silent.sock')
  const sockets = new Set<net.Socket>()
  const server = net.createServer((s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(file, resolve))
  return {
    path: file,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/**
 * A unix socket file nobody listens on (bound, never listened, then abandoned), so that connecting to it is
 * refused (ECONNREFUSED) rather than "no such file".
 */
export function makeRefusingSocket(dir: string): string {
  const file = path.join(dir, 'refused.sock')
  const r = spawnSync('/usr/bin/python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', file], {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`Cannot make a refusing socket at "${file}": ${r.stderr}`)
  return file
}
