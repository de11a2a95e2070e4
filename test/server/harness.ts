/**
 * An in-process db-serve for protocol tests: a server on a unix socket in a temporary directory, with a
 * small schema covering every column kind, and a JSON-RPC client that records notifications in order.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {connect, type JsonRpcConnection} from '../../src/core/jsonrpc/index.js'
import {Database, DatabaseSchema} from '../../src/core/ovsdb/index.js'
import {HostedDb} from '../../src/core/server/hosted-db.js'
import {OvsdbServer} from '../../src/core/server/server.js'

/** A small schema: root and non-root tables, strong and weak references, sets, maps, enums, an index. */
export const testSchemaJSON = {
  name: 'Test',
  version: '1.0.0',
  tables: {
    Switch: {
      columns: {
        name: {type: 'string'},
        ports: {type: {key: {type: 'uuid', refTable: 'Port'}, min: 0, max: 'unlimited'}},
        other_config: {type: {key: 'string', value: 'string', min: 0, max: 'unlimited'}},
        tags: {type: {key: {type: 'integer', minInteger: 0, maxInteger: 4095}, min: 0, max: 'unlimited'}},
        kind: {type: {key: {type: 'string', enum: ['set', ['a', 'b']]}, min: 0, max: 1}},
      },
      indexes: [['name']],
      isRoot: true,
    },
    Port: {
      columns: {
        name: {type: 'string'},
        peer: {type: {key: {type: 'uuid', refTable: 'Port', refType: 'weak'}, min: 0, max: 1}},
        up: {type: {key: 'boolean', min: 0, max: 1}},
      },
      isRoot: false,
    },
  },
}

/** A notification or reply as the client saw it, in arrival order. */
export type Seen = {kind: 'notification'; method: string; params: unknown} | {kind: 'reply'; id: number}

/** A test client that records everything it receives in order. */
export class TestClient {
  readonly seen: Seen[] = []
  constructor(readonly conn: JsonRpcConnection) {
    conn.setHandler({
      onRequest: (method, params, id) => (method === 'echo' ? conn.respond(id, params) : conn.respondError(id, 'unknown method')),
      onNotification: (method, params) => this.seen.push({kind: 'notification', method, params}),
    })
  }

  /** Sends a request; resolves with the result, records when the reply arrived relative to notifications. */
  async call(method: string, params: unknown[]): Promise<unknown> {
    const result = await this.conn.request(method, params)
    this.seen.push({kind: 'reply', id: this.seen.length})
    return result
  }

  /** Sends a request and resolves with {result} or {error} instead of throwing. */
  async try(method: string, params: unknown[]): Promise<{result?: unknown; error?: unknown}> {
    try {
      return {result: await this.conn.request(method, params)}
    } catch (err) {
      return {error: (err as {error?: unknown}).error ?? (err as Error).message}
    }
  }

  /** Notifications received so far with the given method. */
  notifications(method: string): unknown[] {
    return this.seen.flatMap((s) => (s.kind === 'notification' && s.method === method ? [s.params] : []))
  }

  close(): void {
    this.conn.close()
  }
}

/** A running in-process server with one database "Test". */
export class Harness {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-server-'))
  readonly sock = path.join(this.dir, 'db.sock')
  readonly server: OvsdbServer
  private readonly clients: TestClient[] = []

  constructor(options: ConstructorParameters<typeof OvsdbServer>[0] = {}) {
    this.server = new OvsdbServer(options)
  }

  /** Starts serving. */
  async start(): Promise<this> {
    const db = new Database(DatabaseSchema.fromJSON(testSchemaJSON))
    this.server.addDatabase(new HostedDb('Test', db, null, this.server.dbLimits))
    await this.server.remotes.configure([`punix:${this.sock}`])
    return this
  }

  /** Connects a new client. */
  async client(): Promise<TestClient> {
    const client = new TestClient(await connect(`unix:${this.sock}`, {timeoutMs: 2000}))
    this.clients.push(client)
    return client
  }

  /** Closes clients and server and removes the directory. */
  async stop(): Promise<void> {
    for (const c of this.clients) c.close()
    await this.server.close()
    fs.rmSync(this.dir, {recursive: true, force: true})
  }
}
