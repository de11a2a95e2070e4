/**
 * An I/O thread of db-serve (--io-threads): it accepts clients on the sockets the database thread bound, reads
 * and parses their requests, and serializes and writes what they are sent. It holds a replica of each database,
 * kept by a relay link to the database thread (relay.ts over a MessagePort, port-stream.ts), which sends it one
 * serialized update per commit. Monitors of every kind, reads, echo, get_schema, list_dbs and _Server are
 * answered here; writes are forwarded and answered once their change is in this replica, as a relay does; locks
 * live in the database thread's table (io-thread-locks.ts). _Server shows each database as the database thread
 * serves it (standalone, leader), not as a relay.
 */
import net from 'node:net'
import {MessageChannel, type MessagePort, parentPort, workerData} from 'node:worker_threads'
import {JsonRpcConnection} from '../jsonrpc/index.js'
import {PortStream} from '../jsonrpc/port-stream.js'
import {ForwardedLocks} from './io-thread-locks.js'
import type {IoThreadData, ToMain, ToWorker} from './io-thread.js'
import type {Database} from '../ovsdb/index.js'
import {defaultRelayLimits, RelayDb} from './relay.js'
import {defaultSourceLimits} from './relay-source.js'
import {OvsdbServer} from './server.js'
import {openDatabaseFile} from './standalone.js'
import {TxnHistory} from './txn-history.js'

const data = workerData as IoThreadData
const port = parentPort!

function post(message: ToMain, transfer: MessagePort[] = []): void {
  port.postMessage(message, transfer)
}

/** A new JSON-RPC connection to the database thread, which serves it as one more session. */
function dialMain(name: string): JsonRpcConnection {
  const {port1, port2} = new MessageChannel()
  post({type: 'dial', port: port2}, [port2])
  return new JsonRpcConnection(new PortStream(port1) as unknown as net.Socket, name, {probeIntervalMs: 0})
}

const server = new OvsdbServer({
  serverId: data.serverId,
  dbLimits: data.dbLimits,
  limits: data.limits,
  digestKey: data.digestKey,
  connectionsMax: data.connectionsMax,
  locks: new ForwardedLocks(() => dialMain('database thread (locks)')),
  log: (level, message) => post({type: 'log', level, message}),
})

/**
 * The database as its file holds it, with the history rebuilt from it as the database thread rebuilt its own
 * (transaction ids from the records' SHA-1): clients resume with monitor_cond_since from before a restart, and the
 * link asks the database thread only for what the file does not hold yet. Null (a full copy over the link)
 * when the file cannot be read.
 */
async function seed(file: string): Promise<{db: Database; history: TxnHistory; lastTxnId: string} | null> {
  const history = new TxnHistory(server.dbLimits)
  try {
    const opened = await openDatabaseFile(file, {readOnly: true, history})
    await opened.file.close()
    return {db: opened.db, history, lastTxnId: opened.lastTxnId}
  } catch (err) {
    server.log('WARN', `cannot read "${file}" (${(err as Error).message}): copying the database from the database thread instead`)
    return null
  }
}

const relays = await Promise.all(
  data.dbs.map(async ({name, file}) => {
    const seeded = file === undefined ? null : await seed(file)
    return new RelayDb(server, name, 'database-thread', {
      limits: defaultRelayLimits,
      sourceLimits: defaultSourceLimits,
      dial: async () => dialMain(`database thread (${name})`),
      mirror: true,
      seed: seeded ?? undefined,
    })
  }),
)
for (const relay of relays) void relay.start()

const listeners: net.Server[] = []

function listen(sockets: ToWorker & {type: 'listen'}): void {
  let number = 0
  for (const s of sockets.sockets) {
    const listener = net.createServer({noDelay: true}, (socket) => {
      const name = s.unix ? `unix#${data.index}.${number++}` : `tcp:${socket.remoteAddress}:${socket.remotePort}`
      // As db-serve's own listeners: no probe of unix-socket clients, the 5 s probe of TCP ones.
      void server.serve(socket, name, s.unix ? 0 : undefined)
    })
    listener.listen({fd: s.fd})
    listeners.push(listener)
  }
  post({type: 'listening'})
}

/** Tells the database thread once every replica is served, so that no client finds a database missing. */
function announceReady(): void {
  if (relays.every((r) => r.link.state === 'replicating' && server.database(r.name) !== undefined)) post({type: 'ready'})
  else setTimeout(announceReady, 5).unref()
}

async function stop(): Promise<void> {
  for (const relay of relays) await relay.stop()
  for (const session of server.sessions) session.conn.close('server is shutting down')
  post({type: 'stopped'})
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'listen') listen(message)
  else if (message.type === 'memory') post({type: 'memory', id: message.id, stats: server.memoryStats()})
  else if (message.type === 'stop') void stop()
})
announceReady()
