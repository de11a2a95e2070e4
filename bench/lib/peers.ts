/**
 * Starting the two servers a benchmark compares, on the same data: the real ovsdb-server and ovnctl's
 * db-serve (the built CLI, as an operator runs it). Both listen on a unix socket in a temporary directory.
 */
import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

/** The project root. */
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

/** A server process under test. */
export interface Peer {
  name: 'ovnctl' | 'ovsdb-server'
  sock: string
  pid: number
  stop(): Promise<void>
}

/** Creates a database file with the real ovsdb-tool, so both servers start from identical bytes. */
export function createDb(dir: string, schemaPath: string, name: string): string {
  const file = path.join(dir, `${name}.db`)
  fs.rmSync(file, {force: true})
  execFileSync('ovsdb-tool', ['create', file, schemaPath])
  return file
}

function waitForSocket(sock: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (fs.existsSync(sock)) return resolve()
      if (child.exitCode !== null) return reject(new Error(`server exited with ${child.exitCode} before listening on ${sock}`))
      if (Date.now() > deadline) return reject(new Error(`server did not listen on ${sock} within ${timeoutMs} ms`))
      setTimeout(poll, 20)
    }
    poll()
  })
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      child.once('exit', () => {
        clearTimeout(timer)
        resolve()
      })
      child.kill('SIGTERM')
    })
}

/** Starts the real ovsdb-server on the given database files. */
export async function startReal(dir: string, dbFiles: string[], extraArgs: string[] = []): Promise<Peer> {
  const sock = path.join(dir, 'real.sock')
  const child = spawn(
    'ovsdb-server',
    [`--remote=punix:${sock}`, `--unixctl=${path.join(dir, 'real.ctl')}`, '--no-chdir', `--log-file=${path.join(dir, 'real.log')}`, ...extraArgs, ...dbFiles],
    {stdio: 'ignore'},
  )
  await waitForSocket(sock, child, 10000)
  return {name: 'ovsdb-server', sock, pid: child.pid!, stop: stopper(child)}
}

/** Starts ovnctl's db-serve (the built CLI) on the given database files. */
export async function startOvnctl(dir: string, dbFiles: string[], extraArgs: string[] = []): Promise<Peer> {
  const sock = path.join(dir, 'ovnctl.sock')
  const child = spawn(
    process.execPath,
    // BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=DIR") profiles the server under test; BENCH_SERVER_OUT names
    // a file its stdout is appended to (e.g. with BENCH_NODE_ARGS=--trace-gc).
    [...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), path.join(root, 'bin', 'run.js'), 'db-serve', `--remote=punix:${sock}`, `--unixctl=${path.join(dir, 'ovnctl.ctl')}`, ...extraArgs, ...dbFiles],
    {stdio: ['ignore', process.env.BENCH_SERVER_OUT ? fs.openSync(process.env.BENCH_SERVER_OUT, 'a') : 'ignore', 'ignore']},
  )
  await waitForSocket(sock, child, 20000)
  return {name: 'ovnctl', sock, pid: child.pid!, stop: stopper(child)}
}

/** Resident set size of a process, in bytes. */
export function rssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  const m = /VmRSS:\s+(\d+) kB/.exec(status)
  return m ? Number(m[1]) * 1024 : NaN
}

/** CPU time (user + system) a process has used, in seconds. */
export function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  return ticks / 100
}

/** CPU time (user + system) one thread of a process has used, in seconds (the main thread's id is the pid). */
export function threadCpuSeconds(pid: number, tid = pid): number {
  const fields = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/**
 * Gives the benchmark process's own helper threads (V8's compiler and GC workers) the lowest scheduling priority,
 * so that they run on a core the measured processes leave free rather than ahead of them. On two cores, V8
 * compiling the benchmark's code on a helper thread held a core for 3-5 ms at a time while the client's main thread,
 * woken on that core, waited there: commits of both servers measured that wait. Only this process is changed,
 * never a server's.
 */
export function yieldHelperThreads(): void {
  for (const tid of fs.readdirSync('/proc/self/task').map(Number)) {
    if (tid !== process.pid) os.setPriority(tid, 19)
  }
}
