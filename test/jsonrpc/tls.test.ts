import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type net from 'node:net'
import {connect, type JsonRpcConnection, listen, type Listener, parseRemote} from '../../src/core/jsonrpc/index.js'
import {parseSslProtocols, TlsContextSource, TlsError, peerCommonName} from '../../src/core/jsonrpc/tls.js'
import type {TLSSocket} from 'node:tls'
import {JsonRpcConnection as Conn} from '../../src/core/jsonrpc/connection.js'
import {TestCa} from '../lib/pki.js'

describe('TLS connection methods', function () {
  this.timeout(60000)
  let dir: string
  let ca: TestCa
  let rogue: TestCa
  let listener: Listener | null = null
  const refused: string[] = []
  const served: Conn[] = []
  const names: (string | null)[] = []

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-tls-'))
    ca = new TestCa(path.join(dir, 'pki'))
    rogue = new TestCa(path.join(dir, 'rogue'), 'rogue')
  })
  after(() => fs.rmSync(dir, {recursive: true, force: true}))
  afterEach(async () => {
    for (const c of served.splice(0)) c.close()
    await listener?.close()
    listener = null
    refused.length = 0
    names.length = 0
  })

  async function serveEcho(settings: ConstructorParameters<typeof TlsContextSource>[0]): Promise<number> {
    const source = new TlsContextSource(settings)
    listener = await listen(parseRemote('pssl:0:127.0.0.1'), (socket: net.Socket) => {
      names.push(peerCommonName(socket as TLSSocket))
      const conn = new Conn(socket, 'server', {probeIntervalMs: 0})
      served.push(conn)
      conn.setHandler({onRequest: (method, params, id) => conn.respond(id, [method, params])})
    }, {tls: source, onRefused: (_peer, reason) => refused.push(reason)})
    return listener.port!
  }

  function client(files: {key: string; cert: string}, caCert: string, extra = {}): TlsContextSource {
    return TlsContextSource.of({privateKey: files.key, certificate: files.cert, caCert, ...extra})
  }

  it('carries JSON-RPC both ways when both certificates are signed by the CA, and names the client by its CN', async () => {
    const server = ca.issue('server')
    const port = await serveEcho(() => ({privateKey: server.key, certificate: server.cert, caCert: ca.cert}))
    const conn: JsonRpcConnection = await connect(`ssl:127.0.0.1:${port}`, {timeoutMs: 5000, tls: client(ca.issue('chassis-a'), ca.cert)})
    assert.deepEqual(await conn.request('echo', ['hi']), ['echo', ['hi']])
    assert.deepEqual(names, ['chassis-a'])
    assert.match((conn.socket as TLSSocket).getProtocol() ?? '', /^TLSv1\.[23]$/)
    conn.close()
  })

  it('refuses a client whose certificate another CA signed, and the client learns it was refused', async () => {
    const server = ca.issue('server')
    const port = await serveEcho(() => ({privateKey: server.key, certificate: server.cert, caCert: ca.cert}))
    await assert.rejects(
      async () => {
        const conn = await connect(`ssl:127.0.0.1:${port}`, {timeoutMs: 5000, tls: client(rogue.issue('intruder'), ca.cert)})
        // TLS 1.3 finishes the client side before the server checks the client's certificate: the refusal
        // then arrives as the connection closing.
        await conn.request('echo', [], {timeoutMs: 5000})
      },
      (err: Error) => err instanceof TlsError || /closed|reset|alert|certificate/i.test(err.message),
    )
    await waitUntil(() => refused.length === 1)
    assert.match(refused[0], /certificate/i)
    assert.deepEqual(names, [])
  })

  it('refuses a server whose certificate another CA signed', async () => {
    const server = rogue.issue('server')
    const port = await serveEcho(() => ({privateKey: server.key, certificate: server.cert, caCert: ca.cert}))
    await assert.rejects(connect(`ssl:127.0.0.1:${port}`, {timeoutMs: 5000, tls: client(ca.issue('chassis-a'), ca.cert)}), (err: Error) => {
      assert.ok(err instanceof TlsError, `expected a TlsError, got ${err.name}: ${err.message}`)
      assert.match(err.message, /server certificate refused|certificate/)
      return true
    })
  })

  it('refuses a client that sends no certificate at all', async () => {
    const server = ca.issue('server')
    const port = await serveEcho(() => ({privateKey: server.key, certificate: server.cert, caCert: ca.cert}))
    const tls = await import('node:tls')
    const outcome = await new Promise<string>((resolve) => {
      const s = tls.connect({host: '127.0.0.1', port, ca: fs.readFileSync(ca.cert), checkServerIdentity: () => undefined})
      s.on('secureConnect', () => s.write('{"id":1,"method":"echo","params":[]}'))
      s.on('data', (d) => resolve(`answered: ${d}`))
      s.on('error', (e) => resolve(`error: ${e.message}`))
      s.on('close', () => resolve('closed'))
    })
    assert.doesNotMatch(outcome, /answered/)
    await waitUntil(() => refused.length === 1)
  })

  it('reads a renewed certificate for new connections without dropping the connections already up', async () => {
    const first = ca.issue('server-1')
    const second = ca.issue('server-2')
    const keyPath = path.join(dir, 'live-key.pem')
    const certPath = path.join(dir, 'live-cert.pem')
    fs.copyFileSync(first.key, keyPath)
    fs.copyFileSync(first.cert, certPath)
    const port = await serveEcho(() => ({privateKey: keyPath, certificate: certPath, caCert: ca.cert}))
    const tlsClient = client(ca.issue('chassis-a'), ca.cert)
    const old = await connect(`ssl:127.0.0.1:${port}`, {timeoutMs: 5000, tls: tlsClient})
    assert.equal(peerCommonName(old.socket as TLSSocket), 'server-1')
    // A renewal writes new files (a later modification time, often another size).
    await new Promise((r) => setTimeout(r, 20))
    fs.copyFileSync(second.key, keyPath)
    fs.copyFileSync(second.cert, certPath)
    const fresh = await connect(`ssl:127.0.0.1:${port}`, {timeoutMs: 5000, tls: tlsClient})
    assert.equal(peerCommonName(fresh.socket as TLSSocket), 'server-2')
    assert.deepEqual(await old.request('echo', ['still up']), ['echo', ['still up']])
    old.close()
    fresh.close()
  })

  it('keeps the last good certificate when a changed file cannot be used', async () => {
    const first = ca.issue('server-1')
    const certPath = path.join(dir, 'broken-cert.pem')
    fs.copyFileSync(first.cert, certPath)
    const warnings: string[] = []
    const source = new TlsContextSource(() => ({privateKey: first.key, certificate: certPath, caCert: ca.cert}), (_l, m) => warnings.push(m))
    const before = source.current()
    fs.writeFileSync(certPath, '-----BEGIN CERTIFICATE-----\nnot really\n')
    assert.equal(source.current(), before)
    assert.equal(warnings.length, 1, `warnings: ${JSON.stringify(warnings)}`)
  })

  it('bootstraps the CA from the server on the first connection and verifies with it from then on', async () => {
    const server = ca.issue('server', {chain: true})
    const port = await serveEcho(() => ({privateKey: server.key, certificate: server.cert, caCert: ca.cert}))
    const boot = path.join(dir, 'bootstrapped-ca.pem')
    const conn = await connect(`ssl:127.0.0.1:${port}`, {timeoutMs: 5000, tls: client(ca.issue('chassis-b'), boot, {bootstrapCaCert: true})})
    assert.deepEqual(await conn.request('echo', [1]), ['echo', [1]])
    assert.equal(fs.readFileSync(boot, 'utf8').trim(), fs.readFileSync(ca.cert, 'utf8').trim())
    conn.close()
  })

  it('refuses plain JSON-RPC and garbage on a pssl: listener and keeps serving TLS clients', async () => {
    const server = ca.issue('server')
    const port = await serveEcho(() => ({privateKey: server.key, certificate: server.cert, caCert: ca.cert}))
    const net = await import('node:net')
    for (const bytes of ['{"id":1,"method":"list_dbs","params":[]}', 'GET / HTTP/1.0\r\n\r\n']) {
      await new Promise<void>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => s.write(bytes))
        s.on('error', () => {})
        s.on('close', () => resolve())
        s.on('data', (d) => assert.doesNotMatch(String(d), /"result"/))
      })
    }
    await waitUntil(() => refused.length === 2)
    const conn = await connect(`ssl:127.0.0.1:${port}`, {timeoutMs: 5000, tls: client(ca.issue('chassis-a'), ca.cert)})
    assert.deepEqual(await conn.request('echo', ['ok']), ['echo', ['ok']])
    conn.close()
  })

  it('refuses a peer that offers only TLS 1.1', async () => {
    const server = ca.issue('server')
    const port = await serveEcho(() => ({privateKey: server.key, certificate: server.cert, caCert: ca.cert}))
    const tls = await import('node:tls')
    const files = ca.issue('old-client')
    const outcome = await new Promise<string>((resolve) => {
      const s = tls.connect({host: '127.0.0.1', port, key: fs.readFileSync(files.key), cert: fs.readFileSync(files.cert), ca: fs.readFileSync(ca.cert),
        minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0', checkServerIdentity: () => undefined})
      s.on('secureConnect', () => resolve(`connected with ${s.getProtocol()}`))
      s.on('error', (e) => resolve(`error: ${e.message}`))
    })
    assert.match(outcome, /^error/)
  })

  it('speaks TLS 1.2 or newer only', () => {
    assert.deepEqual(parseSslProtocols('TLSv1,TLSv1.1,TLSv1.2'), {minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2'})
    assert.deepEqual(parseSslProtocols('TLSv1.3 TLSv1.2'), {minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3'})
    assert.throws(() => parseSslProtocols('TLSv1,TLSv1.1'), /none of TLSv1.2 and TLSv1.3/)
    assert.throws(() => parseSslProtocols('SSLv3'), /unknown protocol "SSLv3"/)
  })

  it('names the missing setting when SSL is used without a key', async () => {
    await assert.rejects(connect('ssl:127.0.0.1:1', {timeoutMs: 1000}), /--private-key/)
    await assert.rejects(connect('ssl:127.0.0.1:1', {timeoutMs: 1000, tls: TlsContextSource.of({certificate: 'x', caCert: 'y'})}), /no private key configured/)
  })
})

async function waitUntil(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
