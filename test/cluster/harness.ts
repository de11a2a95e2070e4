/**
 * A real cluster of `bin/run.js db-serve` processes in a temp dir, on unix sockets: cluster addresses
 * (unix:DIR/sN.raft), client sockets (DIR/sN.sock) and control sockets (DIR/sN.ctl). Every wait is bounded.
 */
import assert from 'node:assert/strict'
import {type ChildProcess, execFile, spawn} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {binRun, childEnv, projectRoot, type RunResult} from '../cli/spawn.js'

/** How long any wait for the cluster may take. */
export const clusterWaitMs = 15_000

/** Fails clearly when the commands were not built. */
export function requireBuild(): void {
  const built = path.join(projectRoot, 'dist', 'commands', 'cluster-create.js')
  assert.ok(fs.existsSync(built), `"${built}" is missing: run "npm run build" before the cluster tests`)
}

/** Runs a program to completion with no stdin (a child that exits at once must not fail the test with EPIPE). */
export function exec(file: string, args: string[], cwd?: string): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(file, args, {cwd, env: childEnv(), timeout: clusterWaitMs}, (err, stdout, stderr) => {
      const e = err as (Error & {code?: number | string; signal?: NodeJS.Signals}) | null
      resolve({code: e === null ? 0 : typeof e.code === 'number' ? e.code : 1, signal: e?.signal ?? null, stdout, stderr})
    })
  })
}

/** Runs ovnctl to completion. */
export function ovnctl(args: string[], cwd: string): Promise<RunResult> {
  return exec(process.execPath, [binRun, ...args], cwd)
}

/** Runs ovs-appctl against a control socket. */
export function appctl(ctl: string, args: string[]): Promise<RunResult> {
  return exec('ovs-appctl', ['-t', ctl, ...args])
}

/** The database every cluster test serves. */
export const sb = 'OVN_Southbound'

/** Runs an OVN_Southbound transaction with ovsdb-client; fails the test on any error in the results. */
export async function transact(sock: string, ops: object[]): Promise<unknown[]> {
  const r = await exec('ovsdb-client', ['transact', `unix:${sock}`, JSON.stringify([sb, ...ops])])
  assert.equal(r.code, 0, `ovsdb-client transact ${JSON.stringify(ops)} failed: ${r.stderr}`)
  const results = JSON.parse(r.stdout) as unknown[]
  assert.ok(!results.some((x) => x !== null && typeof x === 'object' && 'error' in x), `transaction ${JSON.stringify(ops)} failed: ${r.stdout}`)
  return results
}

/** Inserting a chassis needs an encapsulation (ovn-sb(5) Chassis "encaps" has at least one). */
export function addChassis(name: string, ip: string): object[] {
  return [
    {op: 'insert', table: 'Encap', 'uuid-name': 'e', row: {type: 'geneve', ip, chassis_name: name}},
    {op: 'insert', table: 'Chassis', row: {name, hostname: name, encaps: ['named-uuid', 'e']}},
  ]
}

/** The names of the chassis `sock` serves, sorted. */
export async function chassisNames(sock: string): Promise<string[]> {
  const [res] = (await transact(sock, [{op: 'select', table: 'Chassis', where: [], columns: ['name']}])) as {rows: {name: string}[]}[]
  return res.rows.map((r) => r.name).sort()
}

/** One member process. */
export interface Member {
  readonly n: number
  readonly file: string
  readonly sock: string
  readonly ctl: string
  readonly raft: string
  proc: ChildProcess | null
}

/** A temp dir with N clustered database files and their db-serve processes. */
export class TestCluster {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-'))
  readonly members: Member[] = []

  /** `raftAddress` picks each member's cluster address (unix sockets by default); `serveArgs` go to every db-serve. */
  constructor(count: number, private readonly opts: {raftAddress?: (n: number) => string; serveArgs?: string[]} = {}) {
    for (let n = 1; n <= count; n++) {
      this.members.push({
        n,
        file: path.join(this.dir, `s${n}.db`),
        sock: path.join(this.dir, `s${n}.sock`),
        ctl: path.join(this.dir, `s${n}.ctl`),
        raft: opts.raftAddress?.(n) ?? `unix:${path.join(this.dir, `s${n}.raft`)}`,
        proc: null,
      })
    }
  }

  /** cluster-create for the first member, cluster-join for the others. */
  async createFiles(schema: string, name: string): Promise<void> {
    const [first, ...rest] = this.members
    const c = await ovnctl(['cluster-create', first.file, schema, first.raft], this.dir)
    assert.equal(c.code, 0, c.stderr)
    for (const m of rest) {
      const j = await ovnctl(['cluster-join', '--yes', m.file, name, m.raft, first.raft], this.dir)
      assert.equal(j.code, 0, j.stderr)
    }
  }

  /** Creates an OVN_Southbound cluster of every member, starts them all and returns the leader they agree on. */
  async createAndStart(): Promise<Member> {
    requireBuild()
    await this.createFiles('sb', sb)
    for (const m of this.members) this.start(m)
    return this.agreedLeader()
  }

  /** Starts db-serve for member `m`. */
  start(m: Member): void {
    const args = [binRun, 'db-serve', `--remote=punix:${m.sock}`, `--unixctl=${m.ctl}`, `--log-file=${path.join(this.dir, `s${m.n}.log`)}`, ...(this.opts.serveArgs ?? []), m.file]
    m.proc = spawn(process.execPath, args, {cwd: this.dir, env: childEnv(), stdio: 'ignore'})
  }

  /** Kills member `m` with SIGKILL and waits for it to exit. */
  async kill(m: Member): Promise<void> {
    const proc = m.proc
    if (proc === null || proc.exitCode !== null) return
    const exited = new Promise((resolve) => proc.once('exit', resolve))
    proc.kill('SIGKILL')
    await exited
    m.proc = null
  }

  /** cluster/status-json of member `m` (null while it does not answer). */
  async status(m: Member): Promise<Record<string, unknown> | null> {
    const r = await appctl(m.ctl, ['cluster/status-json', 'OVN_Southbound'])
    return r.code === 0 ? (JSON.parse(r.stdout) as Record<string, unknown>) : null
  }

  /** Waits until `check` holds, polling; fails with `what` after clusterWaitMs. */
  async waitFor<T>(what: string, check: () => Promise<T | null | undefined | false>): Promise<T> {
    const deadline = Date.now() + clusterWaitMs
    let last: unknown
    while (Date.now() < deadline) {
      try {
        const v = await check()
        if (v !== null && v !== undefined && v !== false) return v
      } catch (err) {
        last = err
      }
      await new Promise((r) => setTimeout(r, 200))
    }
    throw new Error(`Timed out after ${clusterWaitMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}\n${this.logs()}`)
  }

  /** The member that is leader with every running member agreeing on it. */
  async agreedLeader(): Promise<Member> {
    return this.waitFor('a leader all running members agree on', async () => {
      const up = this.members.filter((m) => m.proc !== null)
      const st = await Promise.all(up.map((m) => this.status(m)))
      if (st.some((s) => s === null || s.status !== 'cluster member')) return null
      const leaders = new Set(st.map((s) => s!.leader))
      if (leaders.size !== 1 || [...leaders][0] === null) return null
      const at = st.findIndex((s) => s!.role === 'leader')
      return at < 0 ? null : up[at]
    })
  }

  /** The tail of every member's log, for failure messages. */
  logs(): string {
    return this.members
      .map((m) => {
        const file = path.join(this.dir, `s${m.n}.log`)
        const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').slice(-15).join('\n') : '(no log)'
        return `--- s${m.n}.log ---\n${text}`
      })
      .join('\n')
  }

  /** Kills every member and removes the temp dir. */
  async destroy(): Promise<void> {
    for (const m of this.members) await this.kill(m)
    fs.rmSync(this.dir, {recursive: true, force: true})
  }
}
