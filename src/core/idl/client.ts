/**
 * A thin OVSDB client for ovnctl's client commands: connect to a server, list databases, fetch schemas, run
 * transactions and monitors. The replica with change tracking and resume is built on top of it.
 */
import {connect, type JsonRpcConnection, type TlsContextSource} from '../jsonrpc/index.js'

/** An operation result that is an error object (RFC 7047 §4.1.3). */
export interface OpError {
  error: string
  details?: string
}

/** A transaction some operation of which failed: names the first error. */
export class TransactionError extends Error {
  constructor(
    readonly results: unknown[],
    readonly first: OpError,
  ) {
    super(`Transaction failed: ${first.error}${first.details ? `: ${first.details}` : ''}`)
    this.name = 'TransactionError'
  }
}

/** The first error object in a transaction's results, if any. */
export function firstError(results: unknown[]): OpError | null {
  for (const r of results) {
    if (r && typeof r === 'object' && typeof (r as OpError).error === 'string') return r as OpError
  }
  return null
}

/** A connected OVSDB client. */
export class OvsdbClient {
  private constructor(readonly conn: JsonRpcConnection) {}

  /** Connects to the first reachable of a comma-separated list of active remotes (ssl: ones with `tls`). */
  static async connect(remote: string, timeoutMs: number, tls?: TlsContextSource): Promise<OvsdbClient> {
    return new OvsdbClient(await connect(remote, {timeoutMs, tls}))
  }

  /** Databases the server offers. */
  async listDbs(): Promise<string[]> {
    return (await this.conn.request('list_dbs', [])) as string[]
  }

  /** The schema of database `db`, as JSON. */
  async getSchema(db: string): Promise<Record<string, unknown>> {
    return (await this.conn.request('get_schema', [db])) as Record<string, unknown>
  }

  /** Runs a transaction; returns its results, whether or not an operation failed. */
  async transact(db: string, ops: unknown[], timeoutMs?: number): Promise<unknown[]> {
    return (await this.conn.request('transact', [db, ...ops], {timeoutMs})) as unknown[]
  }

  /** Closes the connection. */
  close(): void {
    this.conn.close()
  }
}
