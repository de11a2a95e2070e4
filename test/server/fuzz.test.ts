/**
 * The server under a fuzzer, in bounded batches: FUZZ_MESSAGES messages per run (default 5000), drawn from
 * FUZZ_SEED (default 1; CI moves it every day, so the messages tried add up across runs). The inputs start from
 * real traffic: what ovsdb-client sends to this very server is recorded through a proxy, then replayed and
 * mutated (fuzz-inputs.ts). Alongside, a well-behaved client commits transactions, and idle half-open
 * connections sit on the server. Checked after every batch: the server still runs, every well-formed request
 * got an RFC 7047 reply (or the server closed that connection), no connection holds more than the limits
 * allow, and every transaction of the well-behaved client committed. A failure names the seed to replay it.
 */
import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import net from 'node:net'
import path from 'node:path'
import {JsonSplitter} from '../../src/core/jsonrpc/framing.js'
import {Prng} from '../sim/prng.js'
import {FuzzGenerator, type FuzzKind, fuzzKinds, type FuzzUnit} from './fuzz-inputs.js'
import {Harness} from './harness.js'

const total = Number(process.env.FUZZ_MESSAGES ?? 5000)
const seed = Number(process.env.FUZZ_SEED ?? 1)
const limits = {messageBytesMax: 64 * 1024, depthMax: 64, backlogBytesMax: 4 * 1024 * 1024, pendingRequestsMax: 64, probeIntervalMs: 0}
/** Units sent on one connection before the batch is checked. */
const unitsPerBatch = 40
/** How long a batch's owed replies may take. */
const batchReplyWaitMs = 5000
/** Idle connections left half-open (a partial message) for the whole run. */
const halfOpenConnections = 8

/** A raw client connection that collects the replies it gets and notices when the server closes it. */
class RawConn {
  readonly socket: net.Socket
  readonly replies = new Map<string, number>()
  readonly malformed: string[] = []
  closed = false
  private readonly splitter = new JsonSplitter({messageBytesMax: 256 * 1024 * 1024, depthMax: 100_000})

  constructor(sock: string) {
    this.socket = net.connect(sock)
    this.socket.on('data', (chunk) => {
      try {
        for (const v of this.splitter.push(chunk)) this.take(v as Record<string, unknown>)
      } catch (err) {
        this.malformed.push(`unparsable reply stream: ${(err as Error).message}`)
      }
    })
    this.socket.on('close', () => (this.closed = true))
    this.socket.on('error', () => (this.closed = true))
  }

  private take(msg: Record<string, unknown>): void {
    if (typeof msg.method === 'string') return // the server's own requests (echo probes) and notifications
    // RFC 7047 §4.1: a response carries "id" and "error", and "result" unless it is an error.
    if (!('id' in msg) || !('error' in msg) || (msg.error === null && !('result' in msg))) this.malformed.push(JSON.stringify(msg).slice(0, 200))
    const key = JSON.stringify(msg.id)
    this.replies.set(key, (this.replies.get(key) ?? 0) + 1)
  }

  send(bytes: string): void {
    if (!this.closed) this.socket.write(bytes)
  }
}

/** Records what real clients send, through a unix-socket proxy in front of the server. */
async function recordRealTraffic(h: Harness): Promise<Record<string, unknown>[]> {
  const recorded: Record<string, unknown>[] = []
  const proxySock = path.join(h.dir, 'proxy.sock')
  const proxy = net.createServer((client) => {
    const upstream = net.connect(h.sock)
    const splitter = new JsonSplitter({messageBytesMax: 1 << 24, depthMax: 1000})
    client.on('data', (d) => {
      for (const v of splitter.push(d)) if (typeof (v as {method?: unknown}).method === 'string') recorded.push(v as Record<string, unknown>)
      upstream.write(d)
    })
    upstream.on('data', (d) => client.write(d))
    const end = () => (client.destroy(), upstream.destroy())
    client.on('close', end).on('error', end)
    upstream.on('close', end).on('error', end)
  })
  await new Promise<void>((r) => proxy.listen(proxySock, r))
  const db = `unix:${proxySock}`
  const txn = (ops: object[]) => ['transact', db, JSON.stringify(['Test', ...ops])]
  const runs: [string[], number][] = [
    [['list-dbs', db], 5000], [['get-schema', db, 'Test'], 5000], [['dump', db, 'Test'], 5000],
    [txn([{op: 'insert', table: 'Switch', row: {name: 'sw0', tags: ['set', [1, 2]], other_config: ['map', [['k', 'v']]]}, 'uuid-name': 's'},
      {op: 'insert', table: 'Port', row: {name: 'p0'}, 'uuid-name': 'p'},
      {op: 'mutate', table: 'Switch', where: [['_uuid', '==', ['named-uuid', 's']]], mutations: [['ports', 'insert', ['set', [['named-uuid', 'p']]]]]}]), 5000],
    [txn([{op: 'update', table: 'Switch', where: [['name', '==', 'sw0']], row: {kind: 'a'}}, {op: 'comment', comment: 'fuzz'}, {op: 'commit', durable: false}]), 5000],
    [txn([{op: 'wait', table: 'Switch', where: [['name', '==', 'sw0']], columns: ['name'], until: '==', rows: [{name: 'sw0'}], timeout: 0},
      {op: 'select', table: 'Switch', where: [['tags', 'includes', 1]], columns: ['name', 'tags']}]), 5000],
    [txn([{op: 'delete', table: 'Port', where: [['name', '==', 'nothing']]}, {op: 'assert', lock: 'l'}]), 5000],
    [['monitor', db, 'Test', 'Switch', 'name,ports'], 800], [['monitor-cond', db, 'Test', '[["name","!=","x"]]', 'Switch'], 800],
    [['monitor-cond-since', db, 'Test', '[true]', 'Switch'], 800], [['lock', db, 'biglock'], 800], [['steal', db, 'biglock'], 800],
  ]
  for (const [args, timeout] of runs) await new Promise((r) => execFile('ovsdb-client', args, {timeout}, r))
  await new Promise<void>((r) => proxy.close(() => r()))
  return recorded
}

interface Tally {
  units: number
  messages: number
  answered: number
  closedByServer: number
  /** Units owed nothing (framing broken, not a request) after which the server kept the connection open. */
  keptOpen: number
}

/** Sends one batch of units on a fresh connection and checks what came back; returns the messages sent. */
async function runBatch(h: Harness, gen: FuzzGenerator, tally: Map<string, Tally>, where: string, budget: number): Promise<number> {
  const conn = new RawConn(h.sock)
  const owed: {id: string; kind: FuzzKind}[] = []
  const units: FuzzUnit[] = []
  let sent = 0
  for (let i = 0; i < unitsPerBatch && sent < budget; i++) {
    const unit = gen.unit()
    units.push(unit)
    conn.send(unit.bytes)
    const t = tally.get(unit.kind)!
    t.units++
    const count = Math.max(1, unit.owed.length)
    t.messages += count
    sent += count
    for (const id of unit.owed) owed.push({id, kind: unit.kind})
    // After bytes that may break framing, nothing later on this connection can be owed a reply.
    if (unit.owed.length === 0) break
  }
  conn.send(`{"id":"sentinel","method":"echo","params":[]}`)
  const deadline = Date.now() + batchReplyWaitMs
  while (!conn.closed && Date.now() < deadline && owed.some((o) => !conn.replies.has(o.id))) await new Promise((r) => setTimeout(r, 2))
  assert.deepEqual(conn.malformed, [], `${where}: replies that are not RFC 7047 responses`)
  for (const o of owed) {
    const t = tally.get(o.kind)!
    if (conn.replies.has(o.id)) t.answered++
    else {
      assert.ok(conn.closed, `${where}: request ${o.id} (${o.kind}) got no reply within ${batchReplyWaitMs} ms and its connection is open; sent: ${units.map((u) => u.bytes.slice(0, 300)).join('\n')}`)
      t.closedByServer++
    }
  }
  const last = units[units.length - 1]
  if (last.owed.length === 0) {
    if (conn.closed) tally.get(last.kind)!.closedByServer++
    else tally.get(last.kind)!.keptOpen++
  }
  for (const s of h.server.sessions) {
    assert.ok(s.conn.bufferedBytes <= limits.messageBytesMax, `${where}: ${s.conn.bufferedBytes} bytes buffered for one message`)
    assert.ok(s.conn.backlogBytes <= limits.backlogBytesMax, `${where}: backlog ${s.conn.backlogBytes} bytes`)
    assert.ok(s.pendingRequests <= limits.pendingRequestsMax, `${where}: ${s.pendingRequests} pending requests`)
  }
  conn.socket.destroy()
  return sent
}

describe(`db-serve under a fuzzer (FUZZ_SEED=${seed}, FUZZ_MESSAGES=${total})`, function () {
  this.timeout(Math.max(120_000, total * 20))
  let h: Harness

  before(async () => {
    h = await new Harness({limits, connectionsMax: 64}).start()
  })
  after(() => h.stop())

  it('never crashes, answers every request or closes the connection, stays within its limits, and commits a good client\'s transactions', async () => {
    const corpus = await recordRealTraffic(h)
    assert.ok(corpus.length >= 10, `too little real traffic recorded: ${corpus.length} messages`)
    const gen = new FuzzGenerator(new Prng(seed), corpus, limits)
    const tally = new Map<FuzzKind | 'half-open', Tally>([...fuzzKinds, 'half-open' as const].map((k) => [k, {units: 0, messages: 0, answered: 0, closedByServer: 0, keptOpen: 0}]))
    const halfOpen = Array.from({length: halfOpenConnections}, () => new RawConn(h.sock))
    for (const c of halfOpen) c.send('{"id":"half","method":"echo","params":["never finished')
    tally.get('half-open')!.units = halfOpen.length

    const good = await h.client()
    let goodDone = 0
    const goodFailures: string[] = []
    let fuzzing = true
    const goodLoop = (async () => {
      for (let i = 0; fuzzing; i++) {
        const r = (await good.call('transact', ['Test', {op: 'insert', table: 'Port', row: {name: `good-${seed}-${i}`}}])) as {uuid?: unknown; error?: string}[]
        if (r[0]?.uuid === undefined) goodFailures.push(JSON.stringify(r))
        goodDone++
      }
    })()

    let sent = 0
    for (let batch = 1; sent < total; batch++) sent += await runBatch(h, gen, tally, `seed ${seed}, batch ${batch}`, total - sent)
    fuzzing = false
    await goodLoop
    assert.deepEqual(goodFailures, [], `seed ${seed}: the well-behaved client's transactions failed`)
    assert.ok(goodDone > 0, 'the well-behaved client committed nothing')
    for (const c of halfOpen) assert.equal(c.closed, false, 'an idle half-open connection was dropped though no limit says so')
    assert.ok(halfOpen.every((c) => c.replies.size === 0))
    for (const c of halfOpen) c.socket.destroy()
    assert.deepEqual(await good.call('echo', ['alive']), ['alive'])
    const lines = [...tally].map(([k, t]) => `${k.padEnd(15)} units=${t.units} messages=${t.messages} answered=${t.answered} closed=${t.closedByServer} kept-open=${t.keptOpen}`)
    process.stderr.write(`fuzz seed ${seed}: ${sent} messages, ${goodDone} good transactions committed\n  ${lines.join('\n  ')}\n`)
  })
})
