import {Args, Flags} from '@oclif/core'
import {OvnctlCommand} from '../core/cli/command.js'
import fs from 'node:fs'
import {CliError, failedError, usageError} from '../core/cli/exit.js'
import {timeoutFlag, yesFlag} from '../core/cli/flags.js'
import {withTimeout} from '../core/cli/deadline.js'
import {NoMemberReachedError, type ProbedCluster, probeCluster} from '../core/server/cluster-join-probe.js'
import {type ClusteredDb, serveClusteredFile} from '../core/server/clustered.js'
import {OvsdbServer} from '../core/server/server.js'
import {createJoinFile} from '../core/server/clustered-create.js'

/** `ovnctl cluster-join`: a new server for an existing cluster, as `ovsdb-tool join-cluster`. */
export default class ClusterJoin extends OvnctlCommand<typeof ClusterJoin> {
  static override summary = 'Create a database file for a server that joins an existing cluster, as ovsdb-tool join-cluster does.'
  static override description = `Writes FILE for a new server of the cluster of database NAME, reachable by the other \
servers at LOCAL-ADDRESS. Before writing, it asks a running member at REMOTE-ADDRESS which \
database and cluster it serves, and refuses another one. Then it runs the new server until the cluster has added it \
and it has caught up, showing the transfer of the database on a terminal; "ovnctl db-serve FILE" then starts it \
as a member. When no member runs yet (the files of a new cluster are all made first) or with --no-wait, the join \
happens when db-serve first runs the file. A server that left a cluster cannot rejoin with its old file: join with a new one.

Adding a server changes the cluster's quorum, so this asks for confirmation on a terminal; give --yes otherwise.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> sb2.db OVN_Southbound tcp:10.0.0.2:6644 tcp:10.0.0.1:6644',
    '<%= config.bin %> <%= command.id %> --yes sb3.db OVN_Southbound tcp:10.0.0.3:6644 tcp:10.0.0.1:6644 tcp:10.0.0.2:6644',
  ]

  static override strict = false

  static override args = {
    file: Args.string({description: 'The database file to create.', required: true}),
    name: Args.string({description: 'The database (schema) name, e.g. OVN_Southbound.', required: true}),
    'local-address': Args.string({description: 'Where the other servers reach this one: tcp:IP:PORT, ssl:IP:PORT (db-serve then needs the SSL flags) or unix:PATH.', required: true}),
    'remote-address': Args.string({description: 'A member of the cluster to ask; more may follow.', required: true}),
  }

  static override flags = {
    cid: Flags.string({summary: 'Only join the cluster with this id (as ovsdb-tool join-cluster --cid).', helpValue: 'UUID'}),
    check: Flags.boolean({
      summary: 'Ask a running member which cluster it serves before writing (--no-check: never ask, as ovsdb-tool).',
      description: 'A member that serves another database or cluster (--cid) is refused and nothing is written. When no member can be reached at all (the files of a new cluster are made before any server runs), or the cluster talks ssl:, the file is written and the server joins when db-serve runs it.',
      default: true,
      allowNo: true,
    }),
    wait: Flags.boolean({
      summary: 'Join now: run the new server until the cluster added it and it caught up, with progress (--no-wait: leave that to db-serve).',
      description: 'Only when a member answered. The database arrives as a snapshot from the leader, then the log entries written since. Afterwards the cluster counts the new server as a voter: start it with db-serve at once.',
      default: true,
      allowNo: true,
    }),
    timeout: timeoutFlag({defaultMs: 60_000, summary: 'How long to wait for a member, and for the join: seconds, or a duration such as 500ms, 5s, 2m.'}),
    ...yesFlag,
  }

  async run(): Promise<void> {
    const argv = (await this.parse(ClusterJoin)).argv as string[]
    const [file, name, localAddress, ...remotes] = argv
    if (remotes.length === 0) throw usageError('Missing REMOTE-ADDRESS: name at least one member of the cluster')
    if (this.flags.cid !== undefined && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(this.flags.cid)) {
      throw usageError(`Invalid --cid "${this.flags.cid}": expected a UUID`)
    }
    const ok = await this.confirm(`Add a new server at ${localAddress} to the "${name}" cluster at ${remotes.join(', ')}?`, 'join a cluster')
    if (!ok) throw failedError('Cancelled: nothing was written')
    if (fs.existsSync(file)) throw failedError(`Cannot create "${file}": the file exists`)
    let probed: ProbedCluster | null = null
    // Asking and joining here would need the SSL flags of db-serve: over ssl: links, db-serve does both.
    const overSsl = [localAddress, ...remotes].some((a) => a.startsWith('ssl:'))
    if (overSsl && this.flags.check) this.note('ssl: cluster addresses: the member check and the join happen when db-serve runs the file')
    if (this.flags.check && !overSsl) {
      try {
        probed = await probeCluster(remotes, name, {cid: this.flags.cid, localAddress, timeoutMs: this.flags.timeout})
      } catch (err) {
        // A cluster none of whose members runs yet (every file made first) is not an error: nothing to ask.
        if (!(err instanceof NoMemberReachedError)) throw failedError(`${(err as Error).message}; nothing was written`)
        this.note('No member answers yet: the new server will join when db-serve runs it')
      }
    }
    try {
      const {serverId} = await createJoinFile(file, {name, localAddress, remoteAddresses: remotes, clusterId: probed?.clusterId ?? this.flags.cid})
      if (probed === null || !this.flags.wait) {
        this.note(`Created "${file}": server ${serverId} will join "${name}" through ${remotes.join(', ')} when db-serve runs it`)
        return
      }
      await this.joinNow(file, name, serverId)
    } catch (err) {
      if (err instanceof CliError) throw err
      const e = err as {code?: string; message: string}
      if (e.code === 'exists') throw failedError(`Cannot create "${file}": the file exists`)
      if (e.message.startsWith('Invalid') || e.message.startsWith('Cannot join')) throw usageError(e.message)
      throw failedError(`Cannot create "${file}": ${e.message}`)
    }
  }

  /**
   * Runs the new server here until the cluster has added it and it has caught up, showing the transfer of the
   * database; then closes it, leaving a file that db-serve starts as a member.
   */
  private async joinNow(file: string, name: string, serverId: string): Promise<void> {
    const server = new OvsdbServer({log: (level, m) => level !== 'INFO' && this.note(m)})
    const progress = this.progress(`Receiving "${name}" from the cluster`, {unit: 'bytes'})
    let db: ClusteredDb | null = null
    try {
      db = await serveClusteredFile(server, file, {
        log: (level, m) => level !== 'INFO' && this.note(m),
        onSnapshotProgress: (done, total) => (progress.setTotal(total), progress.update(done)),
      })
      const joined = db
      await withTimeout(waitUntil(() => {
        const st = joined.driver.status()
        return st.membership === 'cluster member' && joined.appliedIndex >= st.commitIndex
      }), {timeoutMs: this.flags.timeout, what: `join the "${name}" cluster`})
    } catch (err) {
      throw failedError(`Server ${serverId} has not joined yet (${(err as Error).message}): "${file}" is kept and db-serve finishes the join`)
    } finally {
      progress.end()
      await db?.close()
      await server.close()
    }
    this.note(`Created "${file}": server ${serverId} joined "${name}" and caught up; start it with db-serve now, the cluster counts it as a voter`)
  }
}

/** Resolves once `check` holds, polling every waitPollMs. */
function waitUntil(check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const poll = () => (check() ? resolve() : setTimeout(poll, waitPollMs).unref())
    poll()
  })
}

/** How often joinNow looks at the joining server's status. */
const waitPollMs = 20
