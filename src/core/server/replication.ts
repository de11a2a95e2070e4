/**
 * Active-backup replication (ovsdb(7) "Active-Backup Database Service Model", ovsdb-server(1) --sync-from): a
 * backup follows every standalone database it serves that the active server also serves, minus the excluded
 * tables, writes what it receives to its own file (so a promotion keeps it), and refuses client writes as
 * ovsdb-server does ("not allowed ... in read only mode"). The ovsdb-server/*-active-ovsdb-server control
 * commands switch roles; a switch closes every client connection, as ovsdb-server does, so that clients
 * reconnect and learn the new role.
 */
import {DatabaseSchema} from '../ovsdb/index.js'
import {clientsOf, checkActiveRemotes, type RelayStatusJson, replicated} from './relay.js'
import {followedColumns, snapshotToChanges, updatesToChanges} from './relay-apply.js'
import {LinkError, type SourceLimits, SourceLink} from './relay-source.js'
import type {OvsdbServer} from './server.js'
import {newUuid} from './uuid.js'

/** The role of a server that may replicate. */
export type ReplicationRole = 'active' | 'backup'

/** A failure of a replication command, in words an operator can act on. */
export class ReplicationError extends Error {}

/** Parses "db:table[,db:table]..." (--sync-exclude-tables); an empty string excludes nothing. */
export function parseExcludedTables(text: string): string[] {
  if (text.trim() === '') return []
  return text.split(',').map((item) => {
    const [db, table, extra] = item.trim().split(':')
    if (!db || !table || extra !== undefined) throw new ReplicationError(`Invalid excluded table "${item}": expected DB:TABLE, e.g. OVN_Southbound:Chassis`)
    return `${db}:${table}`
  })
}

/** The replication state of one server: its role, the active server it follows, what it leaves out. */
export class Replication {
  role: ReplicationRole = 'active'
  private activeServer: string | null = null
  private excluded: string[] = []
  private readonly links = new Map<string, SourceLink>()
  /** Databases whose writes the operator refused anyway (--read-only): promotion leaves them so. */
  private readonly alwaysReadOnly = new Set<string>()

  constructor(
    private readonly server: OvsdbServer,
    private readonly sourceLimits: SourceLimits,
  ) {}

  /** Keeps `db` read-only whatever the role (db-serve --read-only). */
  keepReadOnly(db: string): void {
    this.alwaysReadOnly.add(db)
  }

  /** The active server followed in the backup role (--sync-from, set-active-ovsdb-server), or null. */
  get active(): string | null {
    return this.activeServer
  }

  /** Sets the active server (not yet connecting: connect-active-ovsdb-server does). */
  setActive(remote: string): void {
    try {
      checkActiveRemotes(remote, 'active server')
    } catch (err) {
      throw new ReplicationError((err as Error).message)
    }
    this.activeServer = remote
  }

  /** Tables left out of replication, as DB:TABLE. */
  get excludedTables(): readonly string[] {
    return this.excluded
  }

  /** Sets the tables left out; a backup follows again with the new set, from a full snapshot. */
  setExcluded(text: string): void {
    this.excluded = parseExcludedTables(text)
    if (this.role === 'backup') this.restartLinks()
  }

  /** Becomes (or stays) a backup of the active server. */
  becomeBackup(): void {
    if (this.activeServer === null) throw new ReplicationError('Unable to connect: active server is not specified.')
    const wasActive = this.role === 'active'
    this.role = 'backup'
    this.server.backup = true
    this.restartLinks()
    if (wasActive) this.closeClients('this server became a backup')
  }

  /** Becomes the active server (a promotion): stops following and accepts writes, keeping what it replicated. */
  becomeActive(): void {
    const wasBackup = this.role === 'backup'
    this.stopLinks()
    this.role = 'active'
    this.server.backup = false
    for (const name of this.databases()) this.server.setReadOnly(name, this.alwaysReadOnly.has(name))
    if (wasBackup) {
      this.server.log('INFO', 'replication: promoted to the active role')
      this.closeClients('this server became the active server')
    }
  }

  /** Standalone databases served here (those a backup replicates). */
  private databases(): string[] {
    return this.server.databaseNames().filter((name) => name !== '_Server' && this.server.database(name)?.model === 'standalone')
  }

  private stopLinks(): void {
    for (const link of this.links.values()) link.stop()
    this.links.clear()
  }

  private restartLinks(): void {
    this.stopLinks()
    for (const name of this.databases()) {
      this.server.setReadOnly(name, true)
      const link = this.linkFor(name)
      this.links.set(name, link)
      link.start()
    }
  }

  private linkFor(name: string): SourceLink {
    const hosted = this.server.database(name)!
    let followed: string[] = []
    return new SourceLink(
      this.activeServer!,
      name,
      {
        schema: (json) => {
          if (schemaText(json) !== schemaText(hosted.schema.toJSON())) {
            throw new LinkError(`the active server's schema of "${name}" (version ${String(json.version)}) differs from this server's (version ${hosted.schema.version}): not replicating it`)
          }
          followed = [...hosted.schema.tables.keys()].filter((t) => !this.excluded.includes(`${name}:${t}`))
          return followedColumns(hosted.schema, followed)
        },
        snapshot: (updates, txnId) => hosted.commitReplicated(replicated(hosted, [{updates, txnId}], (db, u) => snapshotToChanges(db, followed, u, newUuid))),
        update: (commits) => hosted.commitReplicated(replicated(hosted, commits, (db, u) => updatesToChanges(db, u, newUuid))),
        stateChanged: () => {},
      },
      {limits: this.sourceLimits, leaderOnly: false, log: (level, m) => this.server.log(level, `replication ${m}`)},
    )
  }

  private closeClients(reason: string): void {
    for (const session of [...this.server.sessions]) session.conn.close(reason)
  }

  /** ovsdb-server/sync-status, in ovsdb-server's words. */
  syncStatus(): string {
    if (this.role === 'active') return 'state: active\n'
    const lines = ['state: backup']
    const links = [...this.links.values()]
    const failing = links.find((l) => l.state === 'error')
    if (failing) lines.push(`Replication to (${this.activeServer}) failed: ${failing.lastError}`)
    else if (links.some((l) => l.state !== 'replicating')) lines.push(`connecting: ${this.activeServer}`)
    else {
      lines.push(`replicating: ${this.activeServer}`)
      for (const l of links) lines.push(`database: ${l.dbName}`)
      if (this.excluded.length > 0) lines.push(`exclude: ${this.excluded.join(',')}`)
    }
    return lines.join('\n') + '\n'
  }

  /** relay/status of the databases a backup replicates (or would, once connected); none without an active server. */
  status(nowMs: number): RelayStatusJson[] {
    if (this.role === 'active' && this.activeServer === null) return []
    return this.databases().map((name) => {
      const l = this.links.get(name)
      const hosted = this.server.database(name)!
      return {
        database: name,
        role: this.role,
        source: this.activeServer ?? '',
        connectedTo: l?.connectedRemote ?? null,
        state: l?.state ?? 'active',
        lastError: l?.lastError ?? null,
        lagMs: l?.currentLagMs(nowMs) ?? null,
        ...clientsOf(this.server, name),
        lastTxnId: hosted.lastTxnId,
        forwarding: 0,
        connects: l?.counters.connects ?? 0,
        fullSyncs: l?.counters.fullSyncs ?? 0,
        resumes: l?.counters.resumes ?? 0,
        updates: l?.counters.updates ?? 0,
        syncMethod: l?.counters.syncMethod ?? null,
        syncBytes: l?.counters.syncBytes ?? 0,
        syncRows: l?.counters.syncRows ?? 0,
        excluded: this.excluded.filter((t) => t.startsWith(`${name}:`)),
      }
    })
  }

  /** Stops following (at shutdown). */
  close(): void {
    this.stopLinks()
  }
}

/** A schema as canonical text, to compare the active server's with ours whatever the order of tables and columns. */
function schemaText(json: unknown): string {
  try {
    return JSON.stringify(sortedKeys(DatabaseSchema.fromJSON(json).toJSON()))
  } catch (err) {
    throw new LinkError(`the active server's schema cannot be read: ${(err as Error).message}`)
  }
}

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys)
  if (typeof value !== 'object' || value === null) return value
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortedKeys((value as Record<string, unknown>)[k])]))
}
