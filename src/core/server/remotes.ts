/**
 * The set of remotes a server serves, as ovsdb-server(1) --remote takes them: passive (punix:, ptcp:) are
 * listened on, active (unix:, tcp:) are connected to and re-connected with back-off, and
 * db:DB,TABLE,COLUMN reads further remotes from the database itself, following it as it changes (a column
 * of strings, or of references to rows whose "target" column names the remote, like OVN's Connection table).
 */
import type net from 'node:net'
import {connectSocket, isPassive, type Listener, parseRemote, type TlsContextSource} from '../jsonrpc/index.js'
import type {Row} from '../ovsdb/index.js'

/** What a Connection row says about its clients (role for RBAC, read_only). */
export interface RemoteClientOptions {
  role?: string
  readOnly?: boolean
}

/** What the remote manager needs from the server. */
export interface RemoteHost {
  listen(remote: string, options?: RemoteClientOptions): Promise<Listener>
  /** Serves one connected stream (accepted or dialled) as a client session; resolves when it closes. */
  serve(socket: net.Socket, name: string, inactivityProbeMs?: number, options?: RemoteClientOptions): Promise<void>
  /** TLS for ssl: remotes dialled out. */
  readonly tls?: TlsContextSource
  /** The rows of a table of a hosted database, or undefined when either does not exist. */
  rows(db: string, table: string): Iterable<Row> | undefined
  log(level: 'INFO' | 'WARN' | 'ERR', message: string): void
}

/** Back-off between reconnection attempts of active remotes, as OVS's reconnect does: 1 s doubling to 8 s. */
export const reconnectBackoffMs = {min: 1000, max: 8000}

interface Active {
  stopped: boolean
  socket: net.Socket | null
}

/** A configured remote, with its settings from a Connection-style row where there is one. */
interface Target {
  text: string
  inactivityProbeMs?: number
  clients?: RemoteClientOptions
  /** Named by a db: remote (so a failure to listen waits for the database to change). */
  fromDatabase?: boolean
}

/** Keeps the served remotes equal to the configured ones. */
export class RemoteManager {
  private readonly listeners = new Map<string, Listener>()
  private readonly actives = new Map<string, Active>()
  private readonly configured: string[] = []
  /** Per remote, the options its new sessions get (one object, updated in place as its row changes). */
  private readonly clientOptions = new Map<string, RemoteClientOptions>()

  constructor(private readonly host: RemoteHost) {}

  /** Sets the configured remotes (command line); `db:` remotes are resolved now and on every `refresh`. */
  async configure(remotes: string[]): Promise<void> {
    for (const r of remotes) {
      if (!r.startsWith('db:')) parseRemote(r) // refuse a bad remote before serving anything
    }
    this.configured.splice(0, this.configured.length, ...remotes)
    await this.refresh()
  }

  private refreshing: Promise<void> = Promise.resolve()

  /** After a commit: re-reads db: remotes, if any are configured; refreshes never overlap. */
  followDatabase(): void {
    if (!this.configured.some((r) => r.startsWith('db:'))) return
    this.refreshing = this.refreshing.then(() => this.refresh()).catch((err: Error) => this.host.log('WARN', err.message))
  }

  /** Re-reads db: remotes and starts or stops listeners and connections to match. */
  async refresh(): Promise<void> {
    const wanted = new Map<string, Target>()
    for (const text of this.configured) {
      if (text.startsWith('db:')) for (const t of this.fromDatabase(text)) wanted.set(t.text, t)
      else wanted.set(text, {text})
    }
    for (const [text, listener] of this.listeners) {
      if (!wanted.has(text)) {
        this.listeners.delete(text)
        this.clientOptions.delete(text)
        await listener.close()
      }
    }
    for (const [text, active] of this.actives) {
      if (!wanted.has(text)) {
        this.actives.delete(text)
        this.clientOptions.delete(text)
        active.stopped = true
        active.socket?.destroy()
      }
    }
    for (const target of wanted.values()) {
      const clients = this.clientOptions.get(target.text)
      // A Connection row's role or read_only may change while its listener stays up: new sessions follow it.
      if (clients !== undefined) Object.assign(clients, {role: '', readOnly: false}, target.clients)
      if (this.listeners.has(target.text) || this.actives.has(target.text)) continue
      target.clients = {role: '', readOnly: false, ...target.clients}
      this.clientOptions.set(target.text, target.clients)
      let remote
      try {
        remote = parseRemote(target.text)
      } catch (err) {
        this.host.log('WARN', (err as Error).message)
        continue
      }
      if (!isPassive(remote)) this.dial(target)
      else {
        try {
          this.listeners.set(target.text, await this.host.listen(target.text, target.clients))
        } catch (err) {
          // A remote the database names may wait for the rest of its configuration (the SSL row, a free port).
          if (!target.fromDatabase) throw err
          this.host.log('WARN', `${(err as Error).message}; trying again when the database changes`)
        }
      }
    }
  }

  /** The remotes as configured (db: remotes unresolved). */
  configuredRemotes(): string[] {
    return [...this.configured]
  }

  /** Texts of the remotes being served now. */
  list(): string[] {
    return [...this.listeners.keys(), ...this.actives.keys()].sort()
  }

  private fromDatabase(spec: string): Target[] {
    const [db, table, column] = spec.slice(3).split(',')
    const rows = db && table && column ? this.host.rows(db, table) : undefined
    if (rows === undefined) {
      this.host.log('WARN', `Ignoring remote "${spec}": no table "${table}" in database "${db}"`)
      return []
    }
    const out: Target[] = []
    for (const row of rows) {
      const cell = row.columns[column]
      if (cell === undefined) {
        this.host.log('WARN', `Ignoring remote "${spec}": no column "${column}" in table "${table}"`)
        return []
      }
      for (const key of cell.keys) {
        if (typeof key !== 'string') continue
        out.push({...this.targetOf(db, key), fromDatabase: true})
      }
    }
    return out
  }

  /** A string is a remote itself, unless it is the UUID of a row with a "target" column (OVN's Connection). */
  private targetOf(db: string, value: string): Target {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-/.test(value)) return {text: value}
    for (const table of ['Connection', 'Manager']) {
      for (const row of this.host.rows(db, table) ?? []) {
        if (row.uuid !== value) continue
        const target = row.columns.target?.keys[0]
        const probe = row.columns.inactivity_probe?.keys[0]
        const role = row.columns.role?.keys[0]
        const readOnly = row.columns.read_only?.keys[0] === true
        const clients = {role: typeof role === 'string' ? role : '', readOnly}
        return {text: String(target), inactivityProbeMs: typeof probe === 'number' ? probe : undefined, clients}
      }
    }
    return {text: value}
  }

  private dial(target: Target): void {
    const active: Active = {stopped: false, socket: null}
    this.actives.set(target.text, active)
    const remote = parseRemote(target.text)
    let backoff = reconnectBackoffMs.min
    const attempt = async () => {
      if (active.stopped) return
      try {
        const socket = await connectSocket(remote, backoff, {tls: this.host.tls})
        active.socket = socket
        backoff = reconnectBackoffMs.min
        this.host.log('INFO', `${target.text}: connected`)
        await this.host.serve(socket, target.text, target.inactivityProbeMs, target.clients)
        this.host.log('INFO', `${target.text}: connection closed`)
      } catch (err) {
        this.host.log('WARN', `${target.text}: ${(err as Error).message}; retrying in ${backoff} ms`)
        backoff = Math.min(backoff * 2, reconnectBackoffMs.max)
      }
      if (!active.stopped) setTimeout(attempt, backoff).unref()
    }
    void attempt()
  }

  /** Stops every listener and active connection. */
  async close(): Promise<void> {
    for (const active of this.actives.values()) {
      active.stopped = true
      active.socket?.destroy()
    }
    this.actives.clear()
    await Promise.all([...this.listeners.values()].map((l) => l.close()))
    this.listeners.clear()
  }
}
