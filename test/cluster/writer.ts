/**
 * A single writer that commits a chain of numbered writes through a cluster, trying the next member when one
 * fails or does not answer. Write i is one OVSDB transaction (RFC 7047 §5.2): "wait" until the register
 * (Address_Set "counter") is i-1, insert DHCP_Options "w-i", set the register to i. The guard makes a write
 * take effect at most once even when its reply was lost and it is retried elsewhere.
 */
import {connect, type JsonRpcConnection} from '../../src/core/jsonrpc/index.js'

/** How long one request may wait for its reply before the writer tries another member. */
export const writeTimeoutMs = 1000

/** What the writer saw. */
export interface WriterHistory {
  /** Writes acknowledged as committed, in the order of their acknowledgement. */
  acked: number[]
  /** Writes whose reply was lost but which a later read showed committed. */
  unacked: number[]
  /** A read of the register on the acknowledging member right after each acknowledgement (when it answered). */
  reads: {after: number; member: number; seen: string}[]
  /** Register values no single writer can produce (ahead of the writer). */
  anomalies: string[]
}

function writeOps(i: number): unknown[] {
  const counter = [['name', '==', 'counter']]
  return [
    'OVN_Southbound',
    {op: 'wait', table: 'Address_Set', where: counter, columns: ['addresses'], until: '==', rows: [{addresses: String(i - 1)}], timeout: 0},
    {op: 'insert', table: 'DHCP_Options', row: {name: `w-${i}`, code: 0, type: 'str'}},
    {op: 'update', table: 'Address_Set', where: counter, row: {addresses: String(i)}},
  ]
}

const readOps = ['OVN_Southbound', {op: 'select', table: 'Address_Set', where: [['name', '==', 'counter']], columns: ['addresses']}]

/** One connection per member, reopened after it closes. */
class Members {
  private readonly conns: (JsonRpcConnection | null)[]
  constructor(readonly socks: string[]) {
    this.conns = socks.map(() => null)
  }

  async transact(k: number, params: unknown[]): Promise<unknown[]> {
    let conn = this.conns[k]
    if (conn === null || conn.closed) {
      conn = await connect(`unix:${this.socks[k]}`, {timeoutMs: writeTimeoutMs})
      this.conns[k] = conn
    }
    return (await conn.request('transact', params, {timeoutMs: writeTimeoutMs})) as unknown[]
  }

  async register(k: number): Promise<string> {
    const [res] = (await this.transact(k, readOps)) as {rows: {addresses: unknown}[]}[]
    return String(res.rows[0].addresses)
  }

  close(): void {
    for (const c of this.conns) c?.close()
  }
}

const failed = (results: unknown[]) => results.some((r) => r !== null && typeof r === 'object' && 'error' in r)

/** Writes the chain 1, 2, ... until `until` settles (and the write in flight is done), then reports what it saw. */
export async function runWriter(socks: string[], until: Promise<void>): Promise<WriterHistory> {
  const history: WriterHistory = {acked: [], unacked: [], reads: [], anomalies: []}
  const members = new Members(socks)
  let done = false
  void until.then(() => (done = true))
  let k = 0
  let i = 1
  let attempts = 0
  try {
    while (!done && attempts < 200) {
      attempts++
      try {
        const results = await members.transact(k, writeOps(i))
        if (!failed(results)) {
          history.acked.push(i)
          const seen = await members.register(k).catch(() => null)
          if (seen !== null) history.reads.push({after: i, member: k + 1, seen})
          i++
          attempts = 0
          continue
        }
        const seen = await members.register(k)
        if (Number(seen) > i) history.anomalies.push(`register ${seen} while writing ${i} (s${k + 1})`)
        if (Number(seen) === i) {
          history.unacked.push(i)
          i++
          attempts = 0
          continue
        }
      } catch {
        // No answer or no connection: the next member may be the leader or reach it.
      }
      k = (k + 1) % socks.length
      await new Promise((r) => setTimeout(r, 100))
    }
  } finally {
    members.close()
  }
  return history
}
