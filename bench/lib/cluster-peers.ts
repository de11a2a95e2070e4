/**
 * Three-member clusters a benchmark compares: the real ovsdb-server (files made by `ovsdb-tool create-cluster`
 * and `join-cluster`) and ovnctl's db-serve (files made by `ovnctl cluster-create` and `cluster-join`). Each
 * member listens for clients on DIR/sN.sock (punix:), answers ovs-appctl on DIR/sN.ctl and talks Raft on
 * unix:DIR/sN.raft, all in a temporary directory. Both kinds keep the default election timer (1000 ms,
 * ovsdb(5) "election_timer"). Every process started here is recorded and killed by PID when the benchmark exits.
 */
import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import {connect, type JsonRpcConnection} from '../../src/core/jsonrpc/index.js'
import {root} from './peers.js'

/** Which server a cluster runs. */
export type ClusterKind = 'ovsdb-server' | 'ovnctl'

/** One member of a cluster: its files, sockets and (while it runs) its process. */
export interface ClusterMember {
  readonly n: number
  readonly file: string
  readonly sock: string
  readonly ctl: string
  /** The Raft address (unix:PATH). */
  readonly raft: string
  readonly log: string
  proc: ChildProcess | null
}

/** What `_Server.Database` says about the clustered database on one member (ovsdb-server(5) Database). */
export interface MemberStatus {
  connected: boolean
  leader: boolean
  index: number
}

/** How long starting a member, or waiting for a leader, may take. */
export const clusterWaitMs = 30_000

/** Children started by this module and still running: killed by PID if the process exits early. */
const children = new Set<ChildProcess>()
/** Temporary directories to remove if the process exits early. */
const dirs = new Set<string>()

function killLeftovers(): void {
  for (const child of children) {
    try {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL')
    } catch {}
  }
  children.clear()
  for (const dir of dirs) fs.rmSync(dir, {recursive: true, force: true})
}

process.on('exit', killLeftovers)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killLeftovers()
    process.exit(130)
  })
}

/** Removes `dir` (now, and at exit should the benchmark die before its own cleanup). */
export function removeAtExit(dir: string): () => void {
  dirs.add(dir)
  return () => {
    fs.rmSync(dir, {recursive: true, force: true})
    dirs.delete(dir)
  }
}

/** A 3-member (or N-member) cluster of one kind, in its own directory. */
export class Cluster {
  readonly members: ClusterMember[] = []

  private constructor(readonly kind: ClusterKind, readonly dir: string, readonly dbName: string, size: number) {
    for (let n = 1; n <= size; n++) {
      this.members.push({
        n,
        file: path.join(dir, `s${n}.db`),
        sock: path.join(dir, `s${n}.sock`),
        ctl: path.join(dir, `s${n}.ctl`),
        raft: `unix:${path.join(dir, `s${n}.raft`)}`,
        log: path.join(dir, `s${n}.log`),
        proc: null,
      })
    }
  }

  /** Creates the member files of a new cluster of `schemaPath` in `dir` and starts every member. */
  static async create(kind: ClusterKind, dir: string, schemaPath: string, size = 3): Promise<Cluster> {
    fs.mkdirSync(dir, {recursive: true})
    const dbName = (JSON.parse(fs.readFileSync(schemaPath, 'utf8')) as {name: string}).name
    const c = new Cluster(kind, dir, dbName, size)
    const [first, ...rest] = c.members
    const tool = (args: string[]) =>
      kind === 'ovsdb-server'
        ? execFileSync('ovsdb-tool', args, {cwd: dir, stdio: ['ignore', 'ignore', 'pipe']})
        : execFileSync(process.execPath, [path.join(root, 'bin', 'run.js'), ...args], {cwd: dir, stdio: ['ignore', 'ignore', 'pipe']})
    tool([kind === 'ovsdb-server' ? 'create-cluster' : 'cluster-create', first.file, schemaPath, first.raft])
    for (const m of rest) {
      tool(kind === 'ovsdb-server' ? ['join-cluster', m.file, dbName, m.raft, first.raft] : ['cluster-join', '--yes', m.file, dbName, m.raft, first.raft])
    }
    try {
      await Promise.all(c.members.map((m) => c.start(m)))
    } catch (err) {
      await c.stop()
      throw err
    }
    return c
  }

  /** Starts member `m` and waits until its client socket answers. */
  async start(m: ClusterMember): Promise<void> {
    // A member killed with SIGKILL leaves its socket file behind: wait for the new process's socket, not that.
    fs.rmSync(m.sock, {force: true})
    const common = [`--remote=punix:${m.sock}`, `--unixctl=${m.ctl}`, `--log-file=${m.log}`]
    const child =
      this.kind === 'ovsdb-server'
        ? spawn('ovsdb-server', [...common, '--no-chdir', m.file], {cwd: this.dir, stdio: 'ignore'})
        : // BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=DIR") profiles our members, as in bench/lib/peers.ts.
          spawn(process.execPath, [...nodeArgs(), path.join(root, 'bin', 'run.js'), 'db-serve', ...common, m.file], {cwd: this.dir, stdio: 'ignore'})
    children.add(child)
    child.once('exit', () => children.delete(child))
    m.proc = child
    const deadline = Date.now() + clusterWaitMs
    while (!fs.existsSync(m.sock)) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${this.kind} member s${m.n} exited (${child.exitCode ?? child.signalCode}) before listening: see ${m.log}`)
      if (Date.now() > deadline) throw new Error(`${this.kind} member s${m.n} did not listen on "${m.sock}" within ${clusterWaitMs} ms`)
      await sleep(20)
    }
  }

  /** Sends SIGKILL to member `m` (by PID) and waits for it to exit. */
  async kill(m: ClusterMember): Promise<void> {
    const proc = m.proc
    m.proc = null
    if (proc === null || proc.exitCode !== null || proc.signalCode !== null) return
    const exited = new Promise((resolve) => proc.once('exit', resolve))
    proc.kill('SIGKILL')
    await exited
  }

  /** Stops every member: SIGTERM, then SIGKILL after 5 s. */
  async stop(): Promise<void> {
    await Promise.all(
      this.members.map(async (m) => {
        const proc = m.proc
        m.proc = null
        if (proc === null || proc.exitCode !== null || proc.signalCode !== null) return
        const exited = new Promise((resolve) => proc.once('exit', resolve))
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5000)
        proc.kill('SIGTERM')
        await exited
        clearTimeout(timer)
      }),
    )
  }

  /** The members whose process runs. */
  running(): ClusterMember[] {
    return this.members.filter((m) => m.proc !== null)
  }

  /** `_Server.Database` of member `m` for this cluster's database (null while it does not answer). */
  async status(m: ClusterMember): Promise<MemberStatus | null> {
    let conn: JsonRpcConnection | null = null
    try {
      conn = await connect(`unix:${m.sock}`, {timeoutMs: 1000})
      const where = [['name', '==', this.dbName]]
      const [res] = (await conn.request('transact', ['_Server', {op: 'select', table: 'Database', where, columns: ['connected', 'leader', 'index']}], {timeoutMs: 1000})) as {
        rows: {connected: boolean; leader: boolean; index: number | ['set', []]}[]
      }[]
      const row = res.rows[0]
      if (row === undefined) return null
      return {connected: row.connected, leader: row.leader, index: typeof row.index === 'number' ? row.index : -1}
    } catch {
      return null
    } finally {
      conn?.close()
    }
  }

  /**
   * Waits until every member runs, is connected to the cluster and has applied the same index, and one of them
   * leads; returns the leader.
   */
  async settled(): Promise<ClusterMember> {
    const deadline = Date.now() + clusterWaitMs
    let seen = ''
    while (Date.now() < deadline) {
      const up = this.running()
      const st = await Promise.all(up.map((m) => this.status(m)))
      seen = JSON.stringify(st)
      const leaders = up.filter((_, i) => st[i]?.leader === true)
      const indexes = new Set(st.map((s) => s?.index))
      if (up.length === this.members.length && st.every((s) => s?.connected === true) && leaders.length === 1 && indexes.size === 1) return leaders[0]
      await sleep(50)
    }
    throw new Error(`${this.kind} cluster in "${this.dir}" did not settle within ${clusterWaitMs} ms: members said ${seen}`)
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function nodeArgs(): string[] {
  return (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)
}
