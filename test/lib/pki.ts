/**
 * Certificates for TLS tests, made by the OS's openssl into a temporary directory (keys are never committed):
 * a CA, certificates it signs (one per common name), and a second CA whose certificates must be refused.
 */
import {execFileSync} from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'

/** Files of one certificate. */
export interface CertFiles {
  key: string
  cert: string
}

/** A CA that signs certificates into `dir`. */
export class TestCa {
  readonly key: string
  readonly cert: string

  constructor(readonly dir: string, readonly name = 'ca') {
    fs.mkdirSync(dir, {recursive: true})
    this.key = path.join(dir, `${name}-key.pem`)
    this.cert = path.join(dir, `${name}-cert.pem`)
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', `/CN=${name} test CA`, '-keyout', this.key, '-out', this.cert])
  }

  /** A key and a certificate with common name `cn`, signed by this CA; `chain` appends the CA certificate. */
  issue(cn: string, opts: {chain?: boolean; file?: string} = {}): CertFiles {
    const base = path.join(this.dir, opts.file ?? `${this.name}-${cn}`)
    const key = `${base}-privkey.pem`
    const cert = `${base}-cert.pem`
    const csr = `${base}.csr`
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${cn}`, '-keyout', key, '-out', csr])
    openssl(['x509', '-req', '-in', csr, '-CA', this.cert, '-CAkey', this.key, '-CAcreateserial', '-days', '2', '-out', cert])
    fs.rmSync(csr)
    if (opts.chain) fs.appendFileSync(cert, fs.readFileSync(this.cert))
    return {key, cert}
  }
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, {stdio: ['ignore', 'ignore', 'pipe'], timeout: 20000})
}

/** A port free on 127.0.0.1 right now (the server started next binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })
}

/** The OVS PKI flags for a key and certificate signed by `ca`. */
export function pki(files: CertFiles, ca: TestCa): string[] {
  return [`--private-key=${files.key}`, `--certificate=${files.cert}`, `--ca-cert=${ca.cert}`]
}
