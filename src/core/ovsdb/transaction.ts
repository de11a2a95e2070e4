/**
 * executeTransaction: runs the operations of one "transact" request (RFC 7047 §4.1.3, §5.2) on a
 * copy-on-write view, then the commit-time checks. The database itself is not modified; the
 * caller applies `outcome.changes` with `db.commit()` once they are durable.
 */
import type { Database } from './database.js';
import { OvsdbError } from './errors.js';
import { type ExecContext, OPERATIONS, WaitBlocked } from './execute-ops.js';
import { finishTransaction } from './integrity.js';
import { OpParser } from './op-parser.js';
import type { Changes, TxnEnv, TxnOutcome } from './transaction-types.js';
import { TxnView } from './txn-view.js';

export type { Changes, RowChange, TxnEnv, TxnOutcome, WriteAuthorizer } from './transaction-types.js';

/** Options of executeTransaction. */
export interface TxnOptions {
  /** Unmet "wait" operations with a timeout fail with "timed out" instead of blocking. */
  waitTimedOut?: boolean;
  /** Time since the transaction was first attempted (for "wait" timeouts), in ms. */
  elapsedMs?: number;
  /** Refuse write operations (a read-only server or a backup replica). */
  readOnly?: boolean;
}

/** The named-uuid symbol table of one transaction (RFC 7047 §5.1 "uuid-name"). */
class Symtab {
  private readonly symbols = new Map<string, { uuid: string; created: boolean }>();
  constructor(private readonly env: TxnEnv) {}

  resolve(name: string): string {
    let s = this.symbols.get(name);
    if (!s) this.symbols.set(name, (s = { uuid: this.env.newUuid(), created: false }));
    return s.uuid;
  }

  isCreated(name: string): boolean {
    return this.symbols.get(name)?.created ?? false;
  }

  create(name: string, uuid?: string): string {
    let s = this.symbols.get(name);
    if (!s) this.symbols.set(name, (s = { uuid: uuid ?? this.env.newUuid(), created: true }));
    else if (uuid !== undefined) s.uuid = uuid;
    s.created = true;
    return s.uuid;
  }
}

function runOp(x: ExecContext, op: unknown, i: number, n: number): unknown {
  const p = new OpParser(op, i, n);
  const name = p.member('op', 'id') as string | undefined;
  const exec = name === undefined ? undefined : OPERATIONS.get(name);
  if (name !== undefined && !exec) p.raise(`No operation "${name}"`);
  p.check();
  const result = exec!(x, p);
  const err = p.finish();
  if (err) throw err;
  return result;
}

function outcome(x: ExecContext, kind: 'committed' | 'failed', results: unknown[], changes: Changes | null): TxnOutcome {
  return x.comments.length
    ? { kind, results, changes, durable: x.durable, comment: x.comments.join('\n') }
    : { kind, results, changes, durable: x.durable };
}

/** Executes the operations `ops` (the "transact" params after the database name). */
export function executeTransaction(db: Database, ops: unknown[], env: TxnEnv, opts: TxnOptions = {}): TxnOutcome {
  const x: ExecContext = {
    view: new TxnView(db), env, symtab: new Symtab(env), readOnly: opts.readOnly ?? false,
    waitTimedOut: opts.waitTimedOut ?? false, elapsedMs: opts.elapsedMs, durable: false, comments: [],
  };
  const results: unknown[] = [];
  for (let i = 0; i < ops.length; i++) {
    try {
      results.push(runOp(x, ops[i], i, ops.length));
    } catch (e) {
      if (e instanceof WaitBlocked) return { kind: 'blocked', timeoutMs: e.timeoutMs };
      if (!(e instanceof OvsdbError)) throw e;
      results.push(e.toJSON());
      while (results.length < ops.length) results.push(null);
      return outcome(x, 'failed', results, null);
    }
  }
  try {
    return outcome(x, 'committed', results, finishTransaction(x.view, env));
  } catch (e) {
    if (!(e instanceof OvsdbError)) throw e;
    results.push(e.toJSON());
    return outcome(x, 'failed', results, null);
  }
}
