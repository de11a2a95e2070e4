/**
 * TLS for the ssl: and pssl: connection methods, as OVS's stream-ssl does it (ovsdb-server(1) "PKI
 * Options"): both sides present a certificate and each refuses a peer whose certificate is not signed by its
 * CA (mutual authentication; the name in the certificate is not matched against the address, as OVS does not).
 * TLS 1.2 is the oldest version spoken. Key, certificate and CA files are read again when they change; a
 * connection already up keeps the context it was made with, so renewing a certificate drops nobody.
 */
import {X509Certificate} from 'node:crypto'
import fs from 'node:fs'
import tls from 'node:tls'

/** Where the key, certificate and CA come from, and the protocol settings (the OVS flags' values). */
export interface TlsSettings {
  /** PEM file with this side's private key (--private-key). */
  readonly privateKey?: string
  /** PEM file with this side's certificate, optionally followed by its chain (--certificate). */
  readonly certificate?: string
  /** PEM file with the CA certificate that signs the peers' certificates (--ca-cert or --bootstrap-ca-cert). */
  readonly caCert?: string
  /** The CA file may be missing: take the CA from the first peer and save it there (--bootstrap-ca-cert). */
  readonly bootstrapCaCert?: boolean
  /** Allowed versions, comma or space separated (--ssl-protocols), e.g. "TLSv1.2,TLSv1.3". */
  readonly protocols?: string
  /** OpenSSL cipher list (--ssl-ciphers). */
  readonly ciphers?: string
}

/** The SSL flags of an OVS daemon or client as given: file names and settings (a server may also give db: references). */
export interface SslFlagValues {
  privateKey?: string
  certificate?: string
  caCert?: string
  bootstrapCaCert?: string
  sslProtocols?: string
  sslCiphers?: string
}

/** Versions spoken when --ssl-protocols is not given. */
export const defaultSslProtocols = 'TLSv1.2,TLSv1.3'

/** The OpenSSL cipher list OVS uses when --ssl-ciphers is not given (ovsdb-server(1) --ssl-ciphers). */
export const defaultSslCiphers = 'HIGH:!aNULL:!MD5'

/** How long a peer may take to complete the TLS handshake before its connection is closed. */
export const tlsHandshakeTimeoutMs = 10_000

/** A TLS configuration that cannot be used, or a peer that failed authentication. */
export class TlsError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TlsError'
  }
}

const knownVersions = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const
type Version = (typeof knownVersions)[number]
const modernVersions: readonly Version[] = ['TLSv1.2', 'TLSv1.3']

/**
 * Parses --ssl-protocols into the range to allow. Versions older than TLS 1.2 are dropped (with a warning
 * from `warn`): configurations written for OVS often list "TLSv1,TLSv1.1,TLSv1.2", and must keep working.
 */
export function parseSslProtocols(text: string, warn: (m: string) => void = () => {}): {minVersion: tls.SecureVersion; maxVersion: tls.SecureVersion} {
  const words = text.split(/[\s,]+/).filter(Boolean)
  const kept: Version[] = []
  for (const w of words) {
    if (!(knownVersions as readonly string[]).includes(w)) {
      throw new TlsError(`Invalid SSL protocols "${text}": unknown protocol "${w}" (use TLSv1.2 and/or TLSv1.3)`)
    }
    if (modernVersions.includes(w as Version)) kept.push(w as Version)
    else warn(`SSL protocol "${w}" ignored: only TLS 1.2 and newer are spoken`)
  }
  if (kept.length === 0) throw new TlsError(`Invalid SSL protocols "${text}": none of TLSv1.2 and TLSv1.3 is allowed`)
  kept.sort()
  return {minVersion: kept[0] as tls.SecureVersion, maxVersion: kept[kept.length - 1] as tls.SecureVersion}
}

/** A built context and how it was built. */
export interface TlsContext {
  readonly secureContext: tls.SecureContext
  /** Set when the CA is to be bootstrapped into this file from the peer (no CA to verify with yet). */
  readonly bootstrapPath: string | null
}

function readPem(what: string, file: string | undefined, flag: string): Buffer {
  if (file === undefined || file === '') throw new TlsError(`Cannot use SSL: no ${what} configured (${flag})`)
  try {
    return fs.readFileSync(file)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new TlsError(`Cannot read ${what} "${file}": ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`)
  }
}

/** Builds a secure context from the files now on disk. */
export function buildTlsContext(settings: TlsSettings, warn?: (m: string) => void): TlsContext {
  const key = readPem('private key', settings.privateKey, '--private-key')
  const cert = readPem('certificate', settings.certificate, '--certificate')
  const bootstrap = settings.bootstrapCaCert === true && settings.caCert !== undefined && !fs.existsSync(settings.caCert)
  const ca = bootstrap ? undefined : readPem('CA certificate', settings.caCert, '--ca-cert')
  const versions = parseSslProtocols(settings.protocols || defaultSslProtocols, warn)
  try {
    const secureContext = tls.createSecureContext({key, cert, ca, ciphers: settings.ciphers || defaultSslCiphers, ...versions})
    return {secureContext, bootstrapPath: bootstrap ? settings.caCert! : null}
  } catch (err) {
    throw new TlsError(`Cannot use SSL with key "${settings.privateKey}" and certificate "${settings.certificate}": ${(err as Error).message}`)
  }
}

function fileStamp(file: string | undefined): string {
  if (file === undefined) return '-'
  try {
    const st = fs.statSync(file)
    return `${st.mtimeMs}:${st.size}:${st.ino}`
  } catch {
    return 'missing'
  }
}

/**
 * The TLS context for new connections, rebuilt when the settings or the files change (checked at each new
 * connection, as OVS checks at each use). When a changed file cannot be used (half written, say) the last
 * good context stays in use and the problem is reported once.
 */
export class TlsContextSource {
  private last: {stamp: string; context: TlsContext} | null = null
  private failedStamp = ''

  constructor(
    private readonly settings: () => TlsSettings,
    private readonly log: (level: 'INFO' | 'WARN', message: string) => void = () => {},
  ) {}

  /** A source for fixed settings. */
  static of(settings: TlsSettings, log?: (level: 'INFO' | 'WARN', message: string) => void): TlsContextSource {
    return new TlsContextSource(() => settings, log)
  }

  /** The context to use for a connection starting now; throws TlsError when there is no usable one. */
  current(): TlsContext {
    const s = this.settings()
    const stamp = JSON.stringify([s, fileStamp(s.privateKey), fileStamp(s.certificate), fileStamp(s.caCert)])
    if (this.last !== null && this.last.stamp === stamp) return this.last.context
    if (this.last !== null && this.failedStamp === stamp) return this.last.context
    try {
      const context = buildTlsContext(s, (m) => this.log('WARN', m))
      if (this.last !== null) this.log('INFO', `SSL: key, certificate or CA changed; new connections use "${s.certificate}"`)
      this.last = {stamp, context}
      return context
    } catch (err) {
      if (this.last === null) throw err
      this.failedStamp = stamp
      this.log('WARN', `${(err as Error).message}; new connections keep the previous key and certificate`)
      return this.last.context
    }
  }
}

/** The common name of the peer's certificate: the client identity RBAC checks (ovsdb-server(1) RBAC). */
export function peerCommonName(socket: tls.TLSSocket): string | null {
  const cn = socket.getPeerCertificate()?.subject?.CN
  if (typeof cn === 'string') return cn
  return Array.isArray(cn) && typeof cn[0] === 'string' ? cn[0] : null
}

/** The self-signed certificate at the top of the chain the peer sent, as PEM. */
function peerCaPem(socket: tls.TLSSocket): string {
  let cert = socket.getPeerCertificate(true) as tls.DetailedPeerCertificate | undefined
  for (let hops = 0; cert !== undefined && cert.raw !== undefined && hops < 16; hops++) {
    const x509 = new X509Certificate(cert.raw)
    if (x509.checkIssued(x509)) return x509.toString()
    if (cert.issuerCertificate === undefined || cert.issuerCertificate === cert) break
    cert = cert.issuerCertificate
  }
  throw new TlsError('Cannot bootstrap the CA certificate: the peer did not send a self-signed CA certificate in its chain')
}

/**
 * --bootstrap-ca-cert: saves the peer's CA into `file` (never overwriting one), then fails this connection so
 * that the next one verifies the peer with it, as OVS's stream-ssl does.
 */
export function bootstrapCa(socket: tls.TLSSocket, file: string): never {
  const pem = peerCaPem(socket)
  try {
    fs.writeFileSync(file, pem, {flag: 'wx', mode: 0o444})
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new TlsError(`Cannot save the bootstrapped CA certificate to "${file}": ${(err as Error).message}`)
  }
  throw new TlsError(`Bootstrapped the CA certificate into "${file}": reconnect to verify the peer with it`)
}

/** Marks an error that says the peer refused this side's certificate after the handshake (TLS 1.3). */
export const peerRefusedText = 'the peer refused this side\'s certificate'

/**
 * In TLS 1.3 a client finishes its handshake before the server has checked the client's certificate, so a
 * refusal arrives later as an alert on the first read. Rewrites OpenSSL's text for it into one that says so.
 */
function explainLateAlerts(socket: tls.TLSSocket): void {
  socket.prependListener('error', (err: Error) => {
    const alert = /(?:tlsv1|sslv3|tlsv13) alert ([a-z ]+?)(?::|$)/i.exec(err.message)
    if (alert !== null) err.message = `${peerRefusedText} (TLS alert "${alert[1]}")`
  })
}

/** Completes the server side of a handshake on an accepted socket; rejects when the client is refused. */
export function acceptTls(raw: import('node:net').Socket, source: TlsContextSource): Promise<tls.TLSSocket> {
  const context = source.current()
  const socket = new tls.TLSSocket(raw, {
    isServer: true,
    secureContext: context.secureContext,
    requestCert: true,
    rejectUnauthorized: context.bootstrapPath === null,
  })
  return handshake(socket, context, 'client')
}

/** Starts the client side of a handshake on a connected socket; rejects when the server is refused. */
export function startTls(raw: import('node:net').Socket, source: TlsContextSource): Promise<tls.TLSSocket> {
  const context = source.current()
  const socket = tls.connect({
    socket: raw,
    secureContext: context.secureContext,
    rejectUnauthorized: context.bootstrapPath === null,
    // OVS authenticates the peer by its CA only; certificates name chassis, not hosts.
    checkServerIdentity: () => undefined,
  })
  return handshake(socket, context, 'server').then((up) => (explainLateAlerts(up), up))
}

/**
 * Why the client's certificate chain failed verification, or null when it passed. A TLSSocket made outside a
 * tls.Server does not check this itself (tls.Server's own "secure" handler does, with the same call).
 */
function clientVerifyError(socket: tls.TLSSocket): string | null {
  const handle = (socket as unknown as {_handle?: {verifyError(): Error | null}})._handle
  if (handle === undefined || handle === null) return 'connection lost during the handshake'
  const err = handle.verifyError()
  if (err !== null && err !== undefined) return (err as NodeJS.ErrnoException).code ?? err.message
  return socket.getPeerCertificate()?.raw === undefined ? 'no certificate' : null
}

function handshake(socket: tls.TLSSocket, context: TlsContext, peer: 'client' | 'server'): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const fail = (message: string) => {
      clearTimeout(timer)
      socket.destroy()
      reject(new TlsError(message))
    }
    const timer = setTimeout(() => fail(`TLS handshake with the ${peer} not done after ${tlsHandshakeTimeoutMs} ms`), tlsHandshakeTimeoutMs)
    socket.once('error', (err) => fail(`TLS handshake with the ${peer} failed: ${err.message}`))
    socket.once(peer === 'client' ? 'secure' : 'secureConnect', () => {
      if (context.bootstrapPath !== null) {
        try {
          bootstrapCa(socket, context.bootstrapPath)
        } catch (err) {
          return fail((err as Error).message)
        }
      }
      const refusal = peer === 'client' ? clientVerifyError(socket) : socket.authorized ? null : String(socket.authorizationError)
      if (refusal !== null) return fail(`${peer} certificate refused: ${refusal}`)
      clearTimeout(timer)
      socket.removeAllListeners('error')
      resolve(socket)
    })
  })
}

/** The settings an SSL row holds (vswitch.ovsschema SSL: bootstrap_ca_cert true makes ca_cert a bootstrap file). */
export function sslSettingsOfRow(row: Record<string, unknown>): TlsSettings {
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined)
  return {
    privateKey: text(row.private_key),
    certificate: text(row.certificate),
    caCert: text(row.ca_cert),
    bootstrapCaCert: row.bootstrap_ca_cert === true,
  }
}

/** Settings from the Open_vSwitch SSL row override the flags, one by one, as in ovn-controller. */
export function overrideSsl(flags: TlsSettings, fromDb: TlsSettings | null): TlsSettings {
  if (fromDb === null) return flags
  return {
    ...flags,
    privateKey: fromDb.privateKey ?? flags.privateKey,
    certificate: fromDb.certificate ?? flags.certificate,
    ...(fromDb.caCert === undefined ? {} : {caCert: fromDb.caCert, bootstrapCaCert: fromDb.bootstrapCaCert}),
  }
}
