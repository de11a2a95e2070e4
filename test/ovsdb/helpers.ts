/** Shared helpers for the ovsdb tests: a test schema, deterministic uuids, a tiny JSON-RPC client. */
import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A schema covering every column kind, strong/weak refs, indexes, maxRows, enums, ranges. */
export const testSchemaJSON = {
  name: 'T', version: '1.2.3',
  tables: {
    A: {
      columns: {
        i: { type: 'integer' }, r: { type: 'real' }, b: { type: 'boolean' }, s: { type: 'string' },
        u: { type: 'uuid' },
        oi: { type: { key: 'integer', min: 0, max: 1 } },
        si: { type: { key: 'integer', min: 0, max: 'unlimited' } },
        ss: { type: { key: 'string', min: 0, max: 'unlimited' } },
        m: { type: { key: 'string', value: 'integer', min: 0, max: 'unlimited' } },
        e: { type: { key: { type: 'string', enum: ['set', ['x', 'y', 'z']] } } },
        ri: { type: { key: { type: 'integer', minInteger: 0, maxInteger: 10 } } },
        ls: { type: { key: { type: 'string', minLength: 1, maxLength: 3 }, min: 0, max: 1 } },
        s2: { type: { key: 'integer', min: 1, max: 2 } },
        im: { type: 'integer', mutable: false },
        eph: { type: 'string', ephemeral: true },
        sref: { type: { key: { type: 'uuid', refTable: 'B' }, min: 0, max: 'unlimited' } },
        wref: { type: { key: { type: 'uuid', refTable: 'B', refType: 'weak' }, min: 0, max: 'unlimited' } },
        wref1: { type: { key: { type: 'uuid', refTable: 'B', refType: 'weak' }, min: 0, max: 1 } },
        rr: { type: { key: { type: 'real', minReal: -1.5, maxReal: 2.5 }, min: 0, max: 'unlimited' } },
        mref: { type: { key: 'string', value: { type: 'uuid', refTable: 'B' }, min: 0, max: 'unlimited' } },
        em: { type: { key: { type: 'string', enum: ['set', ['a', 'b']] },
          value: { type: 'integer', minInteger: 1, maxInteger: 3 }, min: 0, max: 2 } },
        n2: { type: 'integer' },
        name: { type: 'string' },
      },
      indexes: [['name'], ['i', 'n2']], isRoot: true,
    },
    B: { columns: { n: { type: 'integer' }, c: { type: { key: { type: 'uuid', refTable: 'C' }, min: 0, max: 1 } } },
      isRoot: false },
    C: { columns: { x: { type: 'string' } }, isRoot: false },
    M: { columns: { k: { type: 'string' } }, maxRows: 2, isRoot: true },
    W: { columns: { w: { type: { key: { type: 'uuid', refTable: 'B', refType: 'weak' }, min: 1, max: 1 } } },
      isRoot: true },
    X: { columns: { p: { type: 'string' }, q: { type: 'integer' }, t: { type: { key: 'string', min: 0, max: 'unlimited' } } },
      indexes: [['p', 'q', 't']], isRoot: true },
  },
};

/** A deterministic uuid source (the engine is pure; tests pass uuids in). */
export function uuidSource(seed = 1): () => string {
  let n = seed;
  return () => {
    n = (Math.imul(n, 1103515245) + 12345) >>> 0;
    const h = (x: number, len: number) => (x >>> 0).toString(16).padStart(len, '0').slice(-len);
    const a = n;
    const b = Math.imul(n ^ 0x5bd1e995, 0x27d4eb2d) >>> 0;
    return `${h(a, 8)}-${h(b >>> 16, 4)}-4${h(b, 3)}-a${h(a >>> 4, 3)}-${h(a ^ b, 8)}${h(b >>> 8, 4)}`;
  };
}

/** True if the OVS tools needed by the differential test are installed. */
export function haveOvsdbServer(): boolean {
  try {
    execFileSync('ovsdb-server', ['--version'], { stdio: 'ignore' });
    execFileSync('ovsdb-tool', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A running ovsdb-server on a unix socket in a temp dir, stopped by PID. */
export class OvsdbServerPeer {
  private child: ChildProcess | null = null;
  private sock: net.Socket | null = null;
  private buf = '';
  private nextId = 1;
  private pending = new Map<number, (v: unknown) => void>();
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-'));

  /** Creates the database from `schema` and starts the server. */
  async start(schema: object): Promise<void> {
    const schemaPath = path.join(this.dir, 'schema.ovsschema');
    const dbPath = path.join(this.dir, 'db');
    fs.writeFileSync(schemaPath, JSON.stringify(schema));
    execFileSync('ovsdb-tool', ['create', dbPath, schemaPath]);
    const sockPath = path.join(this.dir, 'sock');
    this.child = spawn('ovsdb-server', [`--remote=punix:${sockPath}`, `--unixctl=${path.join(this.dir, 'ctl')}`,
      '--no-chdir', `--log-file=${path.join(this.dir, 'log')}`, dbPath], { stdio: 'ignore' });
    for (let i = 0; i < 200 && !fs.existsSync(sockPath); i++) await new Promise((r) => setTimeout(r, 25));
    this.sock = net.createConnection(sockPath);
    await new Promise<void>((res, rej) => { this.sock!.once('connect', res); this.sock!.once('error', rej); });
    this.sock.setEncoding('utf8');
    this.sock.on('data', (d: string) => this.onData(d));
  }

  private onData(d: string): void {
    this.buf += d;
    for (;;) {
      const end = jsonEnd(this.buf);
      if (end < 0) return;
      const msg = JSON.parse(this.buf.slice(0, end)) as { id: unknown; method?: string; params?: unknown; result?: unknown };
      this.buf = this.buf.slice(end).trimStart();
      if (msg.method === 'echo') this.sock!.write(JSON.stringify({ id: msg.id, result: msg.params, error: null }));
      else if (typeof msg.id === 'number') this.pending.get(msg.id)?.(msg.result);
    }
  }

  /** Sends one "transact" and returns its result array. */
  transact(db: string, ops: unknown[]): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((res) => {
      this.pending.set(id, res);
      this.sock!.write(JSON.stringify({ method: 'transact', params: [db, ...ops], id }));
    });
  }

  /** Stops the server (by PID) and removes the temp dir. */
  stop(): void {
    this.sock?.destroy();
    if (this.child?.pid) this.child.kill('SIGTERM');
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Index just past the first complete JSON value in `s`, or -1. */
function jsonEnd(s: string): number {
  let depth = 0;
  let inStr = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
    } else if (c === '"') inStr = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}
