/** Runs Node scripts in child processes for the storage tests (crashes, file-size limits). */
import {spawn, type ChildProcess} from 'node:child_process'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

/** The repository root, so that children resolve `tsx` and the sources whatever the current directory. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** Absolute path of a file of the repository, for `import()` inside a child script. */
export function repoPath(relative: string): string {
  return path.join(repoRoot, relative)
}

/** Starts `node --import tsx` on an ES module script given as text; `fileSizeKiB` sets RLIMIT_FSIZE. */
export function spawnNodeScript(script: string, args: string[], opts: {fileSizeKiB?: number} = {}): ChildProcess {
  const node = [process.execPath, '--import', 'tsx', '--input-type=module', '-e', script, ...args]
  const argv = opts.fileSizeKiB === undefined ? node : ['bash', '-c', `ulimit -f ${opts.fileSizeKiB}; exec "$@"`, 'bash', ...node]
  return spawn(argv[0], argv.slice(1), {cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe']})
}

/** Runs a script to completion and returns what it printed; rejects if it exits non-zero. */
export async function runNodeScript(
  script: string,
  args: string[],
  opts: {fileSizeKiB?: number} = {},
): Promise<{stdout: string; stderr: string}> {
  const child = spawnNodeScript(script, args, opts)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  if (code !== 0) throw new Error(`Child script failed with exit code ${code}: ${stderr}`)
  return {stdout, stderr}
}
