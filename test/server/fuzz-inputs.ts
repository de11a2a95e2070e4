/**
 * Hostile inputs for the server fuzz test, each kind drawn from one seeded Prng (so a seed replays a run):
 * recorded real traffic replayed and mutated (bytes flipped, truncated, spliced, values swapped for hostile
 * ones), wrong types in every parameter position, arbitrary JSON from fast-check, raw garbage, deep nesting,
 * huge strings and numbers, and floods of pipelined requests.
 */
import fc from 'fast-check'
import type {Prng} from '../sim/prng.js'

/** What one generated unit is: the bytes to send and the requests among them that must be answered. */
export interface FuzzUnit {
  kind: FuzzKind
  bytes: string
  /** JSON ids (as JSON text) of the well-formed requests in `bytes`, each owed a reply or a close. */
  owed: string[]
}

/** The kinds of hostile input, for the tally in the report. */
export const fuzzKinds = [
  'replay', 'byte-flip', 'truncate', 'splice', 'hostile-value', 'wrong-params', 'arbitrary-json', 'garbage',
  'deep-nesting', 'huge-string', 'flood',
] as const
/** One kind of hostile input. */
export type FuzzKind = (typeof fuzzKinds)[number]

/** Methods of RFC 7047 and ovsdb-server(7) a client may call ("convert" left out: a valid one would change the schema). */
const methods = ['list_dbs', 'get_schema', 'transact', 'cancel', 'monitor', 'monitor_cond', 'monitor_cond_since', 'monitor_cond_change',
  'monitor_cancel', 'lock', 'steal', 'unlock', 'echo', 'set_db_change_aware', 'get_server_id', 'no_such_method']

/** The limits the server under test runs with, which the generators aim around. */
export interface FuzzLimits {
  messageBytesMax: number
  depthMax: number
}

/** Generates fuzz units from recorded requests. */
export class FuzzGenerator {
  private nextId = 1

  constructor(
    private readonly rng: Prng,
    private readonly corpus: readonly Record<string, unknown>[],
    private readonly limits: FuzzLimits,
  ) {}

  /** One unit of the given kind (or a random kind). */
  unit(kind: FuzzKind = this.rng.pick(fuzzKinds)): FuzzUnit {
    switch (kind) {
      case 'replay':
        return this.request(kind, this.recorded())
      case 'byte-flip':
        return {kind, bytes: this.flip(JSON.stringify(this.withId(this.recorded()))), owed: []}
      case 'truncate': {
        const text = JSON.stringify(this.withId(this.recorded()))
        return {kind, bytes: text.slice(0, 1 + this.rng.int(text.length - 1)), owed: []}
      }
      case 'splice': {
        const a = JSON.stringify(this.recorded())
        const b = JSON.stringify(this.recorded())
        return {kind, bytes: a.slice(0, this.rng.int(a.length)) + b.slice(this.rng.int(b.length)), owed: []}
      }
      case 'hostile-value':
        return this.request(kind, this.replaceSomewhere(this.recorded(), this.hostileValue()))
      case 'wrong-params':
        return this.request(kind, {method: this.rng.pick(methods), params: Array.from({length: this.rng.int(5)}, () => this.hostileValue())})
      case 'arbitrary-json':
        return this.request(kind, {method: this.rng.pick(methods), params: fc.sample(fc.array(fc.jsonValue({maxDepth: 4})), {seed: this.rng.int(2 ** 31), numRuns: 1})[0]})
      case 'garbage':
        return {kind, bytes: Array.from({length: 1 + this.rng.int(64)}, () => String.fromCharCode(this.rng.int(256))).join(''), owed: []}
      case 'deep-nesting': {
        const depth = this.rng.chance(0.5) ? this.limits.depthMax - 2 : this.limits.depthMax + 1 + this.rng.int(50)
        return this.request(kind, {method: 'echo', params: [JSON.parse('['.repeat(depth) + ']'.repeat(depth))]})
      }
      case 'huge-string': {
        const over = this.rng.chance(0.5)
        const size = over ? this.limits.messageBytesMax + this.rng.int(1024) : 1 + this.rng.int(4096)
        return this.request(kind, {method: this.rng.pick(['echo', 'get_schema', 'lock']), params: ['x'.repeat(size)]})
      }
      case 'flood': {
        const units = Array.from({length: 10 + this.rng.int(50)}, () => this.request(kind, this.recorded()))
        return {kind, bytes: units.map((u) => u.bytes).join(''), owed: units.flatMap((u) => u.owed)}
      }
    }
  }

  private recorded(): Record<string, unknown> {
    return structuredClone(this.rng.pick(this.corpus))
  }

  private withId(msg: Record<string, unknown>): Record<string, unknown> {
    return {...msg, id: `fz${this.nextId++}`}
  }

  /** A request with a fresh id; owed a reply when it is well formed (string method, array params). */
  private request(kind: FuzzKind, msg: Record<string, unknown>): FuzzUnit {
    const out = this.withId(msg)
    const text = JSON.stringify(out)
    const wellFormed = typeof out.method === 'string' && Array.isArray(out.params)
    return {kind, bytes: text, owed: wellFormed ? [JSON.stringify(out.id)] : []}
  }

  private flip(text: string): string {
    const chars = [...text]
    for (let n = 1 + this.rng.int(4); n > 0; n--) chars[this.rng.int(chars.length)] = String.fromCharCode(this.rng.int(128))
    return chars.join('')
  }

  /** Values that break assumptions: other types, extreme numbers, empty and odd containers. */
  private hostileValue(): unknown {
    const choices: (() => unknown)[] = [
      () => null, () => true, () => 0, () => -1, () => 1.5, () => 1e308, () => -1e308, () => 2 ** 64, () => -(2 ** 63),
      () => '', () => 'x'.repeat(this.rng.int(2048)), () => '\u0000\uffff\ud800', () => [], () => {}, () => ({}),
      () => ['uuid', 'not-a-uuid'], () => ['set', [['map', []]]], () => ['named-uuid', 'x'], () => ({op: 'frob'}),
      () => ({op: 'wait', table: 'Switch', where: [], until: '==', rows: [], timeout: this.rng.int(200)}),
      () => [['name', '==', {}]], () => this.rng.next(),
    ]
    return this.rng.pick(choices)()
  }

  /** A copy of `msg` with one node somewhere inside replaced by `value`. */
  private replaceSomewhere(msg: Record<string, unknown>, value: unknown): Record<string, unknown> {
    let node: unknown = msg
    for (let depth = 0; depth < 8; depth++) {
      const keys = node !== null && typeof node === 'object' ? Object.keys(node as object) : []
      if (keys.length === 0) break
      const key = this.rng.pick(keys)
      const child = (node as Record<string, unknown>)[key]
      if (child === null || typeof child !== 'object' || this.rng.chance(0.3)) {
        ;(node as Record<string, unknown>)[key] = value
        return msg
      }
      node = child
    }
    msg.params = value
    return msg
  }
}
