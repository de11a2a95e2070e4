/**
 * Running the real OVS/OVN tools against ovnctl (and against the real ovsdb-server where a test compares
 * the two). ovnctl runs as an operator runs it: `bin/run.js`, built by `npm test` before the suite.
 */
import {type ChildProcess, execFile, spawn} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

/** The project root. */
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
/** The installed CLI entry point. */
export const runJs = path.join(root, 'bin', 'run.js')
/** OVN's schemas as the OS packages install them. */
export const nbSchema = '/usr/share/ovn/ovn-nb.ovsschema'
export const sbSchema = '/usr/share/ovn/ovn-sb.ovsschema'

/** Fails the suite early with a clear message when the build is missing. */
export function requireBuild(): void {
  if (!fs.existsSync(path.join(root, 'dist', 'commands'))) {
    throw new Error('dist/ is missing: run the tests with "npm test", which builds first')
  }
}

/** A temporary directory removed by `cleanup`. */
export function tempDir(): {dir: string; cleanup(): void} {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-interop-'))
  return {dir, cleanup: () => fs.rmSync(dir, {recursive: true, force: true})}
}

/** Result of a finished command. */
export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs a program to completion (bounded by `timeoutMs`), never throwing on a non-zero exit. */
export function run(file: string, args: string[], opts: {timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv} = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(file, args, {timeout: opts.timeoutMs ?? 20000, env: {...process.env, ...opts.env}, maxBuffer: 64 << 20}, (err, stdout, stderr) => {
      const code = err ? (typeof (err as {code?: unknown}).code === 'number' ? ((err as {code: number}).code) : 1) : 0
      resolve({code, stdout, stderr})
    })
    if (opts.input !== undefined) child.stdin!.end(opts.input)
  })
}

/** Runs ovnctl (the built CLI). */
export function ovnctl(args: string[], opts: {timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv} = {}): Promise<RunResult> {
  return run(process.execPath, [runJs, ...args], opts)
}

/** Runs a command and fails the test with its stderr when it exits non-zero. */
export async function ok(file: string, args: string[], opts: {timeoutMs?: number; input?: string} = {}): Promise<string> {
  const r = file === 'ovnctl' ? await ovnctl(args, opts) : await run(file, args, opts)
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`)
  return r.stdout
}

/** A server process started by a test. */
export interface ServerProcess {
  sock: string
  ctl: string
  pid: number
  child: ChildProcess
  /** Everything the server wrote to stderr so far (its log). */
  stderr(): string
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

function waitFor(file: string, child: ChildProcess, timeoutMs: number, stderr: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (fs.existsSync(file)) return resolve()
      if (child.exitCode !== null) return reject(new Error(`server exited with ${child.exitCode}: ${stderr()}`))
      if (Date.now() > deadline) return reject(new Error(`server did not create ${file} within ${timeoutMs} ms: ${stderr()}`))
      setTimeout(poll, 25)
    }
    poll()
  })
}

function stopper(child: ChildProcess): (signal?: NodeJS.Signals) => Promise<number | null> {
  return (signal = 'SIGTERM') =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode)
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      child.once('exit', (code) => {
        clearTimeout(timer)
        resolve(code)
      })
      child.kill(signal)
    })
}

/** Starts `ovnctl db-serve` on the given files with a unix socket and control socket in `dir`. */
export async function startDbServe(dir: string, files: string[], extra: string[] = [], name = 'ovnctl'): Promise<ServerProcess> {
  const sock = path.join(dir, `${name}.sock`)
  const ctl = path.join(dir, `${name}.ctl`)
  let err = ''
  const child = spawn(process.execPath, [runJs, 'db-serve', `--remote=punix:${sock}`, `--unixctl=${ctl}`, ...extra, ...files], {stdio: ['ignore', 'ignore', 'pipe']})
  child.stderr!.on('data', (d) => (err += d))
  await waitFor(sock, child, 20000, () => err)
  await waitFor(ctl, child, 5000, () => err)
  return {sock, ctl, pid: child.pid!, child, stderr: () => err, stop: stopper(child)}
}

/** Starts the real ovsdb-server on the given files with a unix socket and control socket in `dir` (and `extra` flags). */
export async function startOvsdbServer(dir: string, files: string[], name = 'real', extra: string[] = []): Promise<ServerProcess> {
  const sock = path.join(dir, `${name}.sock`)
  const ctl = path.join(dir, `${name}.ctl`)
  let err = ''
  const child = spawn('ovsdb-server', [`--remote=punix:${sock}`, `--unixctl=${ctl}`, '--no-chdir', `--log-file=${path.join(dir, name + '.log')}`, ...extra, ...files], {stdio: ['ignore', 'ignore', 'pipe']})
  child.stderr!.on('data', (d) => (err += d))
  await waitFor(sock, child, 10000, () => err)
  return {sock, ctl, pid: child.pid!, child, stderr: () => err, stop: stopper(child)}
}

/** Polls `check` every 50 ms until it returns true, for at most `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)
}

/**
 * Registers mocha hooks that check the build and make a temporary directory before the suite's tests, and remove
 * it after them. Call it inside `describe`; `dir` is set once the hook ran.
 */
export function useTempDir(): {dir: string} {
  const holder = {dir: ''}
  let tmp: ReturnType<typeof tempDir> | undefined
  before(() => {
    requireBuild()
    tmp = tempDir()
    holder.dir = tmp.dir
  })
  after(() => tmp?.cleanup())
  return holder
}

/** What `useFreshServer` provides once its `before` hook ran. */
export interface FreshServer {
  dir: string
  server: ServerProcess
  /** "unix:SOCKET" of the server. */
  remote: string
}

/**
 * Registers mocha hooks that create a database from `schema` with `ovnctl db-create`, serve it with `db-serve`
 * (and `extra` flags) before the suite's tests, and stop it and remove everything after them. Call it inside `describe`.
 */
export function useFreshServer(schema = nbSchema, extra: string[] = []): FreshServer {
  const fresh = {} as FreshServer
  let tmp: ReturnType<typeof tempDir> | undefined
  before(async () => {
    requireBuild()
    tmp = tempDir()
    fresh.dir = tmp.dir
    const db = path.join(tmp.dir, 'db.db')
    await ok('ovnctl', ['db-create', db, schema])
    fresh.server = await startDbServe(tmp.dir, [db], extra)
    fresh.remote = `unix:${fresh.server.sock}`
  })
  after(async () => {
    await fresh.server?.stop()
    tmp?.cleanup()
  })
  return fresh
}
