/**
 * Running ovnctl as a user would: with stdout and stderr piped, or under a pseudo-terminal (util-linux
 * `script`), to check what people and pipelines see. Add one test per command with these:
 *
 *     const r = await runOvnctl(['db-dump', '--format', 'csv', 'unix:' + sock])
 *     assert.equal(r.code, 0, show(r))
 *     const t = await runOvnctlInPty(['db-dump', 'unix:' + sock])
 */
import {spawn, spawnSync} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

/** The project root (where package.json is). */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

/** The installed entry point; it runs the compiled commands in dist/. */
export const binRun = path.join(projectRoot, 'bin', 'run.js')

/** The longest any spawned process may run in a test before it is killed. */
export const spawnTimeoutMs = 15_000

/** What a finished process left: exit code (null if killed by a signal), signal, and its output. */
export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Options of a run: environment additions (undefined removes a variable), stdin text, working directory. */
export interface RunOptions {
  env?: Record<string, string | undefined>
  input?: string
  cwd?: string
  timeoutMs?: number
}

/** The environment of a test child: the parent's, minus variables that change colour, plus `extra`. */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {...process.env}
  for (const name of ['NO_COLOR', 'FORCE_COLOR', 'NODE_DISABLE_COLORS', 'OVNCTL_DEBUG', 'OVNCTL_DETACHED_CHILD']) delete env[name]
  env.TERM = 'xterm-256color'
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }
  return env
}

/** A one-paragraph rendering of a result, for assertion messages. */
export function show(r: RunResult): string {
  return `exit ${r.code ?? r.signal}\n--- stdout ---\n${r.stdout}--- stderr ---\n${r.stderr}`
}

/** Runs a program with stdin, stdout and stderr as pipes. */
export function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {cwd: options.cwd ?? projectRoot, env: childEnv(options.env)})
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? spawnTimeoutMs)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({code, signal, stdout, stderr})
    })
    child.stdin.end(options.input ?? '')
  })
}

/** Quotes a word for sh. */
export function shQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`
}

/**
 * Runs a program under a pseudo-terminal: stdin, stdout and stderr are all the terminal, so `stdout` holds both
 * streams interleaved (CR LF turned back into LF) and `stderr` only `script`'s own complaints. Redirect one
 * stream inside with `stderrTo`/`stdoutTo` (a file path) to see them apart; that stream is then not a TTY.
 */
export function runInPty(
  file: string,
  args: readonly string[],
  options: RunOptions & {stdoutTo?: string; stderrTo?: string} = {},
): Promise<RunResult> {
  let command = [file, ...args].map(shQuote).join(' ')
  if (options.stdoutTo) command += ` >${shQuote(options.stdoutTo)}`
  if (options.stderrTo) command += ` 2>${shQuote(options.stderrTo)}`
  return run('script', ['-qec', command, '/dev/null'], options).then((r) => ({
    ...r,
    stdout: r.stdout.replaceAll('\r\n', '\n'),
  }))
}

/** Fails with a clear message when dist/ is missing: `npm test` builds first; `npm run build` by hand. */
export function assertBuilt(): void {
  if (!fs.existsSync(path.join(projectRoot, 'dist', 'commands'))) {
    throw new Error('dist/commands is missing: run "npm run build" (npm test builds before running mocha)')
  }
}

/** Runs the installed entry point `bin/run.js` with pipes. */
export function runOvnctl(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  assertBuilt()
  return run(process.execPath, [binRun, ...args], options)
}

/** Runs `bin/run.js` under a pseudo-terminal. */
export function runOvnctlInPty(
  args: readonly string[],
  options: RunOptions & {stdoutTo?: string; stderrTo?: string} = {},
): Promise<RunResult> {
  assertBuilt()
  return runInPty(process.execPath, [binRun, ...args], options)
}

/** Runs a TypeScript file of test/cli/fixtures through tsx, piped. */
export function runFixture(name: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return run(process.execPath, ['--import', 'tsx', fixturePath(name), ...args], options)
}

/** Runs a TypeScript fixture under a pseudo-terminal. */
export function runFixtureInPty(
  name: string,
  args: readonly string[],
  options: RunOptions & {stdoutTo?: string; stderrTo?: string} = {},
): Promise<RunResult> {
  return runInPty(process.execPath, ['--import', 'tsx', fixturePath(name), ...args], options)
}

/** The path of a fixture script in test/cli/fixtures. */
export function fixturePath(name: string): string {
  return path.join(projectRoot, 'test', 'cli', 'fixtures', `${name}.ts`)
}

/** Whether `script` (util-linux) is available for PTY tests. */
export function hasScript(): boolean {
  return spawnSync('script', ['--version'], {encoding: 'utf8'}).status === 0
}

/** ECMA-48 escape sequences (colours, cursor moves). */
// eslint-disable-next-line no-control-regex
export const escapePattern = /\x1b\[[0-9;?]*[A-Za-z]/

/** Whether the text holds any SGR colour sequence (ESC [ ... m). */
export function hasColour(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /\x1b\[[0-9;]*m/.test(text)
}
