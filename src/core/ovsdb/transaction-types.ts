/** The shapes exchanged between the transaction engine, the database and the server. */
import type { Row } from './row.js';

/** One row's change: null old = insert; null new = delete. */
export interface RowChange {
  readonly old: Row | null;
  readonly new: Row | null;
}

/** Changed rows per table (only rows that really changed). */
export type Changes = Map<string, Map<string, RowChange>>;

/** What the engine needs from its caller: uuids, locks, time (the engine is pure). */
export interface TxnEnv {
  /** Returns a fresh random uuid (row uuids, versions, unbound named-uuids). */
  newUuid(): string;
  /** True if this session holds lock `name` (RFC 7047 §5.2.10 "assert"). */
  hasLock?(name: string): boolean;
  /** Current time in ms (unused by the engine itself; passed through for callers). */
  now?: number;
  /** Write permissions of this client (RBAC); absent, every write is allowed. */
  authorize?: WriteAuthorizer;
}

/**
 * Decides whether a client may write, as ovsdb-server's RBAC does (ovsdb-server(1) "Role-Based Access
 * Control"). Each check returns null to allow, or the details of the "permission error" that refuses.
 */
export interface WriteAuthorizer {
  /** May `row` be inserted into `table`? */
  insert(table: string, row: Row): string | null;
  /** May `columns` of `rows` be changed by an "update" (or, with `mutate`, a "mutate")? */
  update(table: string, columns: readonly string[], rows: readonly Row[], mutate: boolean): string | null;
  /** May `rows` be deleted? */
  delete(table: string, rows: readonly Row[]): string | null;
}

/** The outcome of executeTransaction. */
export type TxnOutcome =
  | {
      kind: 'committed' | 'failed';
      /** The JSON "result" array, exactly as ovsdb-server sends it. */
      results: unknown[];
      /** null when nothing changed or the transaction failed. */
      changes: Changes | null;
      /** A "commit" operation with "durable": true was present. */
      durable: boolean;
      /** Text of the "comment" operations, joined by newlines. */
      comment?: string;
    }
  | { kind: 'blocked'; timeoutMs: number };
