import fs from 'node:fs'
import path from 'node:path'
import {Args, Flags} from '@oclif/core'
import {OvnctlCommand} from '../core/cli/command.js'
import {failedError, usageError} from '../core/cli/exit.js'
import {daemonFlags, sslFlags, sslFlagValues} from '../core/cli/flags.js'
import type {TlsContextSource} from '../core/jsonrpc/index.js'
import {hasSslFlags, serverTlsSource} from '../core/server/ssl-config.js'
import {registerServerCommands} from '../core/server/control-commands.js'
import {ControlServer} from '../core/server/control.js'
import {loadOrCreateDigestKey} from '../core/server/digest-key.js'
import {HostedDb} from '../core/server/hosted-db.js'
import {OvsdbServer} from '../core/server/server.js'
import {IoThreads, ioThreadsMax} from '../core/server/io-thread.js'
import {FileCommitLog, openDatabaseFile} from '../core/server/standalone.js'
import {defaultHistoryLimits, TxnHistory} from '../core/server/txn-history.js'
import {registerClusterCommands} from '../core/server/cluster-control.js' // [clustered]
import {type ClusteredDb, serveClusteredFile} from '../core/server/clustered.js' // [clustered]
import {isClusteredFile} from '../core/storage/raft-file.js' // [clustered]
import {defaultRelayLimits, parseRelayArg, RelayDb} from '../core/server/relay.js' // [relay]
import {relayCacheFile} from '../core/server/relay-cache.js' // [relay]
import {registerRelayCommands} from '../core/server/relay-control.js' // [relay]
import {defaultSourceLimits} from '../core/server/relay-source.js' // [relay]
import {Replication} from '../core/server/replication.js' // [relay]

/** `ovnctl db-serve`: an OVSDB server, as `ovsdb-server` is run. */
export default class DbServe extends OvnctlCommand<typeof DbServe> {
  static override summary = 'Serve OVSDB databases to OVS and OVN clients, as ovsdb-server does.'
  static override description = `Serves each standalone database FILE (made by "ovnctl db-create" or "ovsdb-tool create") over \
the OVSDB protocol (RFC 7047 and the extensions of ovsdb-server(7)), on every --remote. Clients such as ovsdb-client, \
ovn-nbctl, ovn-sbctl, ovn-northd, ovn-controller and the OVS IDLs connect to it as to ovsdb-server.

Every commit is written to its file before it is acknowledged; commits marked durable are also synced to disk. \
A torn or corrupt tail found at start is dropped and logged. The file is compacted automatically as it grows, and \
on demand with "ovs-appctl -t SOCKET ovsdb-server/compact".

Remotes take the forms of ovsdb-server(1): punix:FILE, ptcp:PORT[:IP] and pssl:PORT[:IP] listen; unix:FILE, \
tcp:IP:PORT and ssl:IP:PORT connect out (and reconnect); db:DB,TABLE,COLUMN reads more remotes from the database \
itself and follows its changes (OVN's NB_Global/SB_Global "connections" and their Connection rows, whose "role" \
column turns on role-based access control for the clients of that remote, as ovsdb-server does).

SSL remotes and SSL cluster addresses need --private-key, --certificate and --ca-cert (or --bootstrap-ca-cert). \
Each may be db:DB,TABLE,COLUMN, read from the database at every new connection, as with \
--private-key=db:OVN_Southbound,SSL,private_key. Both sides must present a certificate signed by the CA; TLS 1.2 \
is the oldest version spoken. Key and certificate files are read again when they change; connections already \
up are kept.

Limits on what one client may send (a client over a limit gets an error or is disconnected; the others carry on): \
a message of at most 256 MiB and nesting 1000 deep, 1024 requests not yet answered, 512 MiB queued for it; at \
most 10000 clients at once. A client that does not read as fast as the database changes has its updates merged \
(the newest state of each row replaces the older), and is disconnected once 100000 commits are merged for it; it \
can resume with monitor_cond_since, whose history (--history-bytes) is rebuilt from the file at start.

A FILE of the form relay:DB:REMOTES serves database DB as a relay of the server(s) at REMOTES (a comma-separated \
list of unix: or tcp: remotes, e.g. every member of a cluster), as ovsdb-server(7) describes: the relay keeps an \
in-memory replica through monitor_cond_since (a reconnect or failover resends only what changed), answers reads \
and monitors itself, and forwards writes to the source (the leader of a cluster), answering once the change is in \
its replica. Relays can be chained. "ovnctl relay-status" shows their source, state, lag and clients. \
With --relay-cache=DIR a relay also keeps its replica in DIR/DB.relay-cache (checksummed, replaced atomically, \
saved every 5 minutes when it changed and at shutdown): a restarted relay loads it, asks the source only for the \
commits since (its history), or, from ovnctl sources whose history no longer reaches back, for the rows that \
differ (difference digests); it serves clients once reconciled. A damaged or foreign cache file is logged and \
ignored.

I/O threads: with --io-threads=N (default 0: the process serves clients from one thread, as ovsdb-server does), N threads accept the clients of every punix: and ptcp: remote, parse their requests, and compose and write their updates, while the database thread alone executes transactions, in order, and writes the file. Each thread holds a replica of the databases (read from their files at start, with the history, so monitor_cond_since clients resume across a restart) that the database thread keeps current with one serialized update per commit, the same bytes for every thread; commits that reach a thread together go to its clients as one update of their net effect, as through a relay. Reads, monitors of every kind (monitor_cond_change and monitor_cond_since included), echo, get_schema, list_dbs and _Server are answered by the thread; a write is forwarded to the database thread and answered once its change is in the replica of the client's thread (a client sees its own updates before the reply; another client's thread may show it a moment later, as a relay would); lock, steal and unlock are held in the database thread's one lock table. The database thread's work per commit is then fixed, and the fan-out to clients is divided among the threads: a gain when the clients, not the transactions, are the load and the machine has cores to spare (BENCHMARKS.md "Monitors at scale" measures it on 2 shared cores). memory/show adds each thread's sessions, monitors and backlog. A thread that dies is logged and all threads restart on fresh sockets; their clients reconnect. The option serves standalone databases on punix: and ptcp: remotes; it refuses SSL and db: remotes, relay and clustered databases, and --sync-from. "convert" is refused through the threads.

--sync-from=SERVER makes the server a backup of the active server SERVER (active-backup replication): it \
replicates every standalone database both serve, except --sync-exclude-tables, into its own files, and refuses \
writes. "ovnctl db-promote" (or ovs-appctl ovsdb-server/disconnect-active-ovsdb-server) makes it active, keeping \
what it replicated; --active starts it active.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --remote=punix:/var/run/ovn/ovnnb_db.sock --remote=ptcp:6641:127.0.0.1 ovnnb_db.db',
    '<%= config.bin %> <%= command.id %> --remote=db:OVN_Southbound,SB_Global,connections --detach --pidfile=sb.pid --log-file=sb.log ovnsb_db.db',
    '<%= config.bin %> <%= command.id %> --remote=ptcp:16642 relay:OVN_Southbound:tcp:10.0.0.1:6642,tcp:10.0.0.2:6642,tcp:10.0.0.3:6642',
    '<%= config.bin %> <%= command.id %> --remote=ptcp:6642 --sync-from=tcp:10.0.0.1:6642 --sync-exclude-tables=OVN_Southbound:Chassis_Private ovnsb_db.db',
  ]

  static override strict = false

  static override args = {
    file: Args.string({description: 'A database file to serve, or relay:DB:REMOTES (one or more).', required: true}),
  }

  static override flags = {
    remote: Flags.string({
      summary: 'Serve clients on REMOTE: punix:FILE, ptcp:PORT[:IP], pssl:PORT[:IP], unix:FILE, tcp:IP:PORT, ssl:IP:PORT or db:DB,TABLE,COLUMN (repeatable).',
      helpValue: 'REMOTE',
      multiple: true,
      // "--remote=A FILE" must leave FILE alone: one value per --remote, as ovsdb-server takes them.
      multipleNonGreedy: true,
      default: [],
    }),
    unixctl: Flags.string({
      summary: 'Control socket for ovs-appctl and ovnctl (default: ovnctl-db-serve.PID.ctl in the run directory).',
      helpValue: 'SOCKET',
    }),
    'history-txns': Flags.integer({
      summary: 'Commits kept at most so that monitor_cond_since clients resume without a full resend.',
      default: defaultHistoryLimits.historyTxnsMax,
      min: 0,
    }),
    'history-bytes': Flags.integer({
      summary: 'Bytes of row data (estimated) of recent commits kept for monitor_cond_since, rebuilt from the file at start.',
      default: defaultHistoryLimits.historyBytesMax,
      min: 0,
    }),
    'digest-key-file': Flags.string({
      summary: 'Keep the key of the row digests (monitor_cond_digest) in FILE, created if missing, so clients reuse their digests after a restart.',
      helpValue: 'FILE',
    }),
    'no-compact': Flags.boolean({summary: 'Never compact the database files automatically (ovsdb-server/compact still works).'}),
    'read-only': Flags.boolean({summary: 'Refuse every write, as a backup server does.'}),
    ...sslFlags({dbForm: true}),
    'sync-from': Flags.string({summary: 'Start as a backup of the active server SERVER (unix: or tcp:), replicating its databases.', helpValue: 'SERVER'}),
    'sync-exclude-tables': Flags.string({summary: 'Tables a backup does not replicate.', helpValue: 'DB:TABLE[,DB:TABLE]...'}),
    'relay-cache': Flags.string({
      summary: 'Keep each relayed database\'s replica in DIR/DB.relay-cache, so that a restarted relay asks its source only for what changed.',
      helpValue: 'DIR',
    }),
    active: Flags.boolean({summary: 'With --sync-from: start in the active role, ready to become a backup on command.'}),
    'io-threads': Flags.integer({
      summary: 'Serve clients from N I/O threads (0: from the database thread itself); see "I/O threads" in the description.',
      helpValue: 'N',
      default: 0,
      min: 0,
      max: ioThreadsMax,
    }),
    ...daemonFlags,
  }

  /** [clustered] The clustered databases served, by name, for the cluster/* control commands. */
  private readonly clusters = new Map<string, ClusteredDb>()
  /** [relay] The relay databases served, by name. */
  private readonly relays = new Map<string, RelayDb>()
  /** Standalone databases by name, with the file each is served from (I/O threads start from it). */
  private readonly files = new Map<string, string>()
  /** The I/O threads, with --io-threads. */
  private ioThreads: IoThreads | null = null
  /** [relay] Source limits shared by relays and replication (set-active-ovsdb-server-probe-interval changes them). */
  private readonly sourceLimits = {...defaultSourceLimits}

  async run(): Promise<void> {
    const files = (await this.parse(DbServe)).argv as string[]
    if (files.length === 0) throw usageError('Missing database FILE: name at least one database file to serve')
    if (this.flags.active && this.flags['sync-from'] === undefined) throw usageError('--active needs --sync-from=SERVER: the server it would follow as a backup') // [relay]
    const daemon = await this.startDaemon()
    const log = daemon.logger.module('db_serve')
    let digestKey: Uint8Array | undefined
    if (this.flags['digest-key-file'] !== undefined) {
      try {
        digestKey = await loadOrCreateDigestKey(this.flags['digest-key-file'])
      } catch (err) {
        throw failedError((err as Error).message)
      }
    }
    const tls = this.tlsSource(() => server, (level, m) => daemon.logger.log('stream_ssl', level, m))
    const server: OvsdbServer = new OvsdbServer({
      digestKey,
      dbLimits: {historyTxnsMax: this.flags['history-txns'], historyBytesMax: this.flags['history-bytes']},
      log: (level, message) => daemon.logger.log('ovsdb_server', level, message),
      tls,
    })
    this.onShutdown(() => server.close())
    for (const file of files) {
      const relay = relayArg(file) // [relay]
      if (relay !== null) this.serveRelay(server, relay.db, relay.remotes, log)
      else await this.serveFile(server, file, log)
    }
    const replication = this.startReplication(server) // [relay]
    if (this.flags['io-threads'] > 0) await this.startIoThreads(server, digestKey)
    else {
      try {
        await server.remotes.configure(this.flags.remote)
      } catch (err) {
        throw usageError((err as Error).message)
      }
    }
    const control = new ControlServer()
    registerServerCommands(control, server, () => void this.shutdown.stop('SIGTERM'))
    registerClusterCommands(control, this.clusters) // [clustered]
    registerRelayCommands(control, this.relays, replication, this.sourceLimits) // [relay]
    const ctlPath = this.flags.unixctl ?? path.join(runDirectory(), `ovnctl-db-serve.${process.pid}.ctl`)
    fs.mkdirSync(path.dirname(path.resolve(ctlPath)), {recursive: true})
    await control.listen(path.resolve(ctlPath))
    this.onShutdown(() => control.close())
    const remotes = this.ioThreads?.list() ?? server.remotes.list()
    log.info(`serving ${files.length} database(s) on ${remotes.join(', ') || 'no remote'}; control socket ${ctlPath}`)
    daemon.ready()
    // Serve until SIGTERM, SIGINT or "ovs-appctl exit": Shutdown runs the hooks above and exits.
    await new Promise<never>(() => {})
  }

  /**
   * Clients served by I/O threads, each with a replica fed by this (the database) thread: standalone databases
   * on punix:/ptcp: remotes only, the cases whose semantics the threads keep exactly.
   */
  private async startIoThreads(server: OvsdbServer, digestKey: Uint8Array | undefined): Promise<void> {
    const refused = this.clusters.size > 0 ? 'clustered databases' : this.relays.size > 0 ? 'relay databases' : this.flags['sync-from'] !== undefined ? '--sync-from' : null
    if (refused !== null) throw usageError(`--io-threads serves standalone databases only; it cannot be combined with ${refused}`)
    let threads: IoThreads
    try {
      // One digest key for every thread: a client resuming by digests may land on any of them.
      const key = digestKey ?? crypto.getRandomValues(new Uint8Array(16))
      threads = new IoThreads(server, {count: this.flags['io-threads'], remotes: this.flags.remote, digestKey: key, files: this.files})
    } catch (err) {
      throw usageError((err as Error).message)
    }
    this.ioThreads = threads
    server.threadMemoryStats = () => threads.memoryStats()
    server.threadRemotes = () => this.flags.remote
    this.onShutdown(() => threads.close())
    try {
      await threads.start()
    } catch (err) {
      throw failedError(`Cannot start the I/O threads: ${(err as Error).message}`)
    }
  }

  /** The TLS of SSL remotes and cluster links, from the SSL flags (db: ones read from the served databases). */
  private tlsSource(server: () => OvsdbServer, log: (level: 'INFO' | 'WARN', m: string) => void): TlsContextSource | undefined {
    const ssl = sslFlagValues(this.flags)
    if (!hasSslFlags(ssl)) return undefined
    try {
      return serverTlsSource({rows: (db, table) => server().rows(db, table)}, ssl, log)
    } catch (err) {
      throw usageError((err as Error).message)
    }
  }

  private async serveFile(server: OvsdbServer, file: string, log: {info(m: string): void; warn(m: string): void}): Promise<void> {
    if (await isClusteredFile(file).catch(() => false)) return this.serveClustered(server, file, log) // [clustered]
    let opened
    // Replaying a large file takes a while: show it on a terminal (stderr), silently otherwise.
    const progress = this.progress(`Loading ${path.basename(file)}`, {unit: 'records'})
    const history = new TxnHistory(server.dbLimits)
    try {
      opened = await openDatabaseFile(file, {history, onProgress: (done, total) => (progress.setTotal(total), progress.update(done))})
    } catch (err) {
      throw failedError(`Cannot serve "${file}": ${(err as Error).message}`)
    } finally {
      progress.end()
    }
    if (opened.dropped) {
      log.warn(`${file}: dropped ${opened.dropped.bytes} bytes at offset ${opened.dropped.offset} (${opened.dropped.reason}); kept ${opened.records} records`)
    }
    const name = opened.db.schema.name
    if (this.relays.has(name)) throw usageError(`Cannot serve "${file}": database "${name}" is already served as a relay`) // [relay]
    let hosted: HostedDb | null = null
    const commitLog = new FileCommitLog(opened.file, () => hosted!.db, (level, m) => (level === 'WARN' ? log.warn(m) : log.info(m)))
    commitLog.autoCompact = !this.flags['no-compact']
    hosted = new HostedDb(name, opened.db, commitLog, server.dbLimits)
    hosted.resumeFrom(history, opened.lastTxnId)
    try {
      server.addDatabase(hosted)
    } catch (err) {
      throw usageError((err as Error).message)
    }
    if (this.flags['read-only']) server.setReadOnly(name, true)
    this.files.set(name, file)
    log.info(`${file}: serving database "${name}" (${opened.records} records replayed)`)
  }

  /** [relay] Serves database `db` as a relay of `remotes`; it appears to clients once the source sent its schema. */
  private serveRelay(server: OvsdbServer, db: string, remotes: string, log: {info(m: string): void}): void {
    if (this.relays.has(db) || server.database(db) !== undefined) throw usageError(`Cannot relay database "${db}": a database of that name is already served`)
    const dir = this.flags['relay-cache']
    const cacheFile = dir === undefined ? undefined : relayCacheFile(dir, db)
    const relay = new RelayDb(server, db, remotes, {limits: defaultRelayLimits, sourceLimits: this.sourceLimits, cacheFile})
    this.relays.set(db, relay)
    this.onShutdown(() => relay.stop())
    void relay.start()
    log.info(`relaying database "${db}" from ${remotes}`)
  }

  /** [relay] Active-backup replication: a backup of --sync-from unless --active. */
  private startReplication(server: OvsdbServer): Replication {
    const replication = new Replication(server, this.sourceLimits)
    this.onShutdown(() => replication.close())
    if (this.flags['read-only']) for (const name of server.databaseNames()) replication.keepReadOnly(name)
    try {
      if (this.flags['sync-exclude-tables'] !== undefined) replication.setExcluded(this.flags['sync-exclude-tables'])
      if (this.flags['sync-from'] !== undefined) replication.setActive(this.flags['sync-from'])
      if (this.flags['sync-from'] !== undefined && !this.flags.active) replication.becomeBackup()
    } catch (err) {
      throw usageError((err as Error).message)
    }
    return replication
  }

  /** [clustered] Serves a clustered file (made by cluster-create, cluster-join or ovsdb-tool) as a Raft member. */
  private async serveClustered(server: OvsdbServer, file: string, log: {info(m: string): void; warn(m: string): void}): Promise<void> {
    let c: ClusteredDb
    try {
      c = await serveClusteredFile(server, file, {log: (level, m) => server.log(level, m), tls: server.tls})
    } catch (err) {
      throw failedError(`Cannot serve "${file}": ${(err as Error).message}`)
    }
    this.clusters.set(c.name, c)
    this.onShutdown(() => (c.hosted === null ? c.close() : undefined)) // a joining server hosts no database yet
    if (this.flags['read-only']) server.setReadOnly(c.name, true)
    log.info(`${file}: serving clustered database "${c.name}" as server ${c.driver.id} at ${c.driver.status().address}`)
  }
}

/** [relay] relay:DB:REMOTES as ovsdb-server(1) takes it, or null for a file. */
function relayArg(arg: string): {db: string; remotes: string} | null {
  try {
    return parseRelayArg(arg)
  } catch (err) {
    throw usageError((err as Error).message)
  }
}

/** Where OVS daemons keep sockets and pidfiles: $OVS_RUNDIR, else /var/run/openvswitch (ovsdb-server(1)). */
function runDirectory(): string {
  return process.env.OVS_RUNDIR ?? '/var/run/openvswitch'
}
