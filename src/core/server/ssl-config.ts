/**
 * Where a server's SSL settings come from, as ovsdb-server(1) takes them: each of --private-key,
 * --certificate, --ca-cert, --bootstrap-ca-cert, --ssl-protocols and --ssl-ciphers is either a value or
 * `db:DB,TABLE,COLUMN`, read from the database at each new connection (OVN's SSL table of OVN_Northbound and
 * OVN_Southbound, which `ovn-nbctl set-ssl` and `ovn-sbctl set-ssl` fill). Also: the SSL row of a local
 * Open_vSwitch database, from which a hypervisor's controller takes its settings (ovn-controller(8)).
 */
import type {JsonRpcConnection, SslFlagValues, TlsSettings} from '../jsonrpc/index.js'
import {sslSettingsOfRow, TlsContextSource} from '../jsonrpc/index.js'
import type {Row} from '../ovsdb/index.js'

/** The SSL flags of a server, each a value or a `db:DB,TABLE,COLUMN` reference. */
export type SslFlags = SslFlagValues

/** What resolving `db:` references needs: the rows of a table of a hosted database. */
export interface SslRowSource {
  rows(db: string, table: string): Iterable<Row> | undefined
}

/** A `db:` reference that cannot be resolved because its form is wrong. */
export class SslConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SslConfigError'
  }
}

/** Checks the form of every db: reference at start, so that a typo is a usage error and not a silent no-op. */
export function checkSslFlags(flags: SslFlags): void {
  for (const [name, value] of Object.entries(flags)) {
    if (typeof value !== 'string' || !value.startsWith('db:')) continue
    const parts = value.slice(3).split(',')
    if (parts.length !== 3 || parts.some((p) => p === '')) {
      throw new SslConfigError(`Invalid ${flagName(name)} "${value}": expected db:DB,TABLE,COLUMN`)
    }
  }
}

function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
}

/**
 * The first non-empty string in COLUMN of any row of TABLE, as ovsdb-server's query_db_string reads a db:
 * setting; undefined when there is none (the setting is then absent, not empty).
 */
export function readDbString(source: SslRowSource, ref: string): string | undefined {
  const [db, table, column] = ref.slice(3).split(',')
  for (const row of source.rows(db, table) ?? []) {
    const key = row.columns[column]?.keys[0]
    if (typeof key === 'string' && key !== '') return key
  }
  return undefined
}

function resolve(source: SslRowSource, value: string | undefined): string | undefined {
  return value !== undefined && value.startsWith('db:') ? readDbString(source, value) : value
}

/** The TLS settings the flags mean now (db: references read from the database as it is). */
export function resolveSslFlags(source: SslRowSource, flags: SslFlags): TlsSettings {
  const boot = resolve(source, flags.bootstrapCaCert)
  return {
    privateKey: resolve(source, flags.privateKey),
    certificate: resolve(source, flags.certificate),
    caCert: boot ?? resolve(source, flags.caCert),
    bootstrapCaCert: boot !== undefined,
    protocols: resolve(source, flags.sslProtocols),
    ciphers: resolve(source, flags.sslCiphers),
  }
}

/** True when any SSL flag was given (a server then offers pssl:/ssl: remotes and TLS cluster links). */
export function hasSslFlags(flags: SslFlags): boolean {
  return Object.values(flags).some((v) => v !== undefined)
}

/** A context source that follows the flags and, for db: ones, the database. */
export function serverTlsSource(source: SslRowSource, flags: SslFlags, log: (level: 'INFO' | 'WARN', m: string) => void): TlsContextSource {
  checkSslFlags(flags)
  return new TlsContextSource(() => resolveSslFlags(source, flags), log)
}

/**
 * The SSL row of a local Open_vSwitch database (vswitch.ovsschema SSL, referenced by Open_vSwitch's "ssl"
 * column), as settings; null when none is configured. `bootstrap_ca_cert` true makes ca_cert a bootstrap file.
 */
export async function readOpenVswitchSsl(conn: JsonRpcConnection, timeoutMs: number): Promise<TlsSettings | null> {
  const ops = [
    'Open_vSwitch',
    {op: 'select', table: 'Open_vSwitch', where: [], columns: ['ssl']},
    {op: 'select', table: 'SSL', where: [], columns: ['_uuid', 'private_key', 'certificate', 'ca_cert', 'bootstrap_ca_cert']},
  ]
  const results = (await conn.request('transact', ops, {timeoutMs})) as {rows?: Record<string, unknown>[]; error?: string; details?: string}[]
  const failed = results.find((r) => r?.error !== undefined)
  if (failed) throw new Error(`Cannot read the SSL table of Open_vSwitch: ${failed.error}${failed.details ? `: ${failed.details}` : ''}`)
  const ref = results[0].rows?.[0]?.ssl as unknown
  const uuid = Array.isArray(ref) && ref[0] === 'uuid' ? (ref[1] as string) : null
  const row = results[1].rows?.find((r) => Array.isArray(r._uuid) && r._uuid[1] === uuid)
  if (uuid === null || row === undefined) return null
  return sslSettingsOfRow(row)
}

export {overrideSsl} from '../jsonrpc/tls.js'
