/**
 * Flag definitions shared by every command, so that `--format`, `--columns`, `--timeout`, `--yes` and the
 * daemon flags mean the same thing everywhere (ovsdb-client(1) and ovn-nbctl(8) "Table Formatting Options",
 * ovsdb-server(1) "Daemon Options").
 */
import {Flags} from '@oclif/core'
import type {SslFlagValues} from '../jsonrpc/tls.js'
import {formatDuration, parseDuration} from './duration.js'
import {outputFormats} from './render.js'

/** Help section that groups the output flags. */
const outputGroup = 'OUTPUT'
/** Help section that groups the daemon flags. */
const daemonGroup = 'DAEMON'

/** Flags every ovnctl command takes (the base class adds them). */
export const globalFlags = {
  'no-color': Flags.boolean({
    summary: 'Never colour the output (colour is also off when NO_COLOR is set or the stream is not a terminal).',
    helpGroup: 'GLOBAL',
  }),
}

/** Flags of every command that prints records: --format, --json, --columns, --no-headings, --bare. */
export const outputFlags = {
  format: Flags.option({
    char: 'f',
    options: outputFormats,
    summary: 'Output format: table (default), json, csv or ndjson.',
    exclusive: ['json', 'bare'],
    helpGroup: outputGroup,
  })(),
  json: Flags.boolean({
    summary: 'Same as --format=json; errors are then a JSON object on stderr.',
    exclusive: ['format', 'bare'],
    helpGroup: outputGroup,
  }),
  columns: Flags.string({
    summary: 'Comma-separated columns to show, in this order.',
    helpValue: 'COLUMN,...',
    helpGroup: outputGroup,
  }),
  'no-headings': Flags.boolean({
    summary: 'Omit the heading line of table and csv output.',
    helpGroup: outputGroup,
  }),
  bare: Flags.boolean({
    summary: 'Values only: one per line, a blank line between records, no headings (as ovsdb-client --bare).',
    exclusive: ['format', 'json'],
    helpGroup: outputGroup,
  }),
}

/** `--yes` for commands that ask before acting; required when stdin or stdout is not a terminal. */
export const yesFlag = {
  yes: Flags.boolean({
    char: 'y',
    summary: 'Do not ask for confirmation (required when stdin or stdout is not a terminal).',
  }),
}

/**
 * A `--timeout` flag in milliseconds, with a default: no wait is unbounded. Accepts seconds ("30") or a
 * duration with a unit ("500ms", "5s", "2m").
 */
export function timeoutFlag(options: {defaultMs: number; summary?: string}) {
  return Flags.custom<number>({
    summary: options.summary ?? 'Give up after this long: seconds, or a duration such as 500ms, 5s, 2m.',
    helpValue: 'DURATION',
    default: options.defaultMs,
    defaultHelp: async () => formatDuration(options.defaultMs),
    parse: async (input: string) => parseDuration(input),
  })()
}

/** Daemon flags (ovsdb-server(1) "Daemon Options"): --pidfile, --detach, --log-file, --verbose. */
export const daemonFlags = {
  pidfile: Flags.string({
    summary: 'Write the process id to this file once listening; remove it on exit; refuse if a live process holds it.',
    helpValue: 'FILE',
    helpGroup: daemonGroup,
  }),
  detach: Flags.boolean({
    summary: 'Run in the background: return once the daemon is ready (exit 0), or with its exit code if it fails.',
    helpGroup: daemonGroup,
  }),
  'log-file': Flags.string({
    summary: 'Append log lines to this file instead of stderr.',
    helpValue: 'FILE',
    helpGroup: daemonGroup,
  }),
  verbose: Flags.boolean({
    char: 'v',
    summary: 'Log debug messages (level DBG) too.',
    helpGroup: daemonGroup,
  }),
}

/** Help section that groups the SSL flags. */
const sslGroup = 'SSL'

/**
 * The PKI flags of OVS daemons and clients (ovsdb-server(1), ovsdb-client(1) "PKI Options"), for ssl: and
 * pssl: connection methods. `dbForm` adds the db:DB,TABLE,COLUMN form that a server reads from its database.
 */
export function sslFlags(options: {dbForm: boolean}) {
  const or = options.dbForm ? ', or db:DB,TABLE,COLUMN' : ''
  const file = options.dbForm ? 'FILE|db:DB,TABLE,COLUMN' : 'FILE'
  return {
    'private-key': Flags.string({char: 'p', summary: `PEM file with the private key that identifies this side over SSL${or}.`, helpValue: file, helpGroup: sslGroup}),
    certificate: Flags.string({char: 'c', summary: `PEM file with the certificate, signed by the CA, for the private key${or}.`, helpValue: file, helpGroup: sslGroup}),
    'ca-cert': Flags.string({char: 'C', summary: `PEM file with the CA certificate; a peer whose certificate it did not sign is refused${or}.`, helpValue: file, helpGroup: sslGroup}),
    'bootstrap-ca-cert': Flags.string({
      summary: `As --ca-cert, but when FILE does not exist the CA is taken from the first peer's certificate chain and saved there${or}.`,
      helpValue: file,
      exclusive: ['ca-cert'],
      helpGroup: sslGroup,
    }),
    'ssl-protocols': Flags.string({summary: `SSL protocols to allow: TLSv1.2 and/or TLSv1.3, comma separated (default both; older ones are ignored)${or}.`, helpValue: 'LIST', helpGroup: sslGroup}),
    'ssl-ciphers': Flags.string({summary: `OpenSSL cipher list (default HIGH:!aNULL:!MD5)${or}.`, helpValue: 'CIPHERS', helpGroup: sslGroup}),
  }
}

/** Reads the SSL flags out of a command's parsed flags. */
export function sslFlagValues(flags: Record<string, unknown>): SslFlagValues {
  const s = (k: string) => (typeof flags[k] === 'string' ? (flags[k] as string) : undefined)
  return {
    privateKey: s('private-key'),
    certificate: s('certificate'),
    caCert: s('ca-cert'),
    bootstrapCaCert: s('bootstrap-ca-cert'),
    sslProtocols: s('ssl-protocols'),
    sslCiphers: s('ssl-ciphers'),
  }
}
