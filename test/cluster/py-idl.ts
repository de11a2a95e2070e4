/**
 * The Python IDL helper of the cluster and relay tests (test/cluster/py/idl_cluster.py) as a child process that
 * answers one JSON line per command. Every wait is bounded.
 */
import {type ChildProcessWithoutNullStreams, spawn} from 'node:child_process'
import path from 'node:path'
import {createInterface} from 'node:readline'
import {childEnv, projectRoot} from '../cli/spawn.js'

/** The Python IDL helper, answering one JSON line per command. */
export class PyIdl {
  private readonly lines: string[] = []
  private waiting: ((line: string) => void) | null = null
  readonly child: ChildProcessWithoutNullStreams

  /** Starts the helper on `remotes` with the schema at `schemaPath`; `anyServer` lifts the IDL's leader-only rule. */
  constructor(remotes: string, schemaPath: string, opts: {anyServer?: boolean} = {}) {
    const script = path.join(projectRoot, 'test', 'cluster', 'py', 'idl_cluster.py')
    this.child = spawn('/usr/bin/python3', [script, remotes, schemaPath, ...(opts.anyServer ? ['any'] : [])], {env: childEnv()})
    createInterface({input: this.child.stdout}).on('line', (line) => {
      const w = this.waiting
      this.waiting = null
      if (w) w(line)
      else this.lines.push(line)
    })
  }

  /** The next event line. */
  next(timeoutMs = 25_000): Promise<Record<string, unknown>> {
    const line = this.lines.shift()
    if (line !== undefined) return Promise.resolve(JSON.parse(line) as Record<string, unknown>)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the Python IDL did not answer within ${timeoutMs} ms`)), timeoutMs)
      this.waiting = (l) => {
        clearTimeout(timer)
        resolve(JSON.parse(l) as Record<string, unknown>)
      }
    })
  }

  /** Sends one command and waits for its event. */
  command(cmd: string): Promise<Record<string, unknown>> {
    this.child.stdin.write(cmd + '\n')
    return this.next()
  }

  /** Stops the helper by PID. */
  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL')
  }
}
