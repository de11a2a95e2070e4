/**
 * A copy-on-write view of a database during one transaction: reads fall through to the committed
 * tables, writes land in a per-table overlay. The committed database is never modified.
 */
import type { Condition } from './condition.js';
import type { Database, Table } from './database.js';
import type { Row } from './row.js';

/** One row touched by the transaction. `opChanged` is false for rows touched only by cleanups. */
export interface TxnEntry {
  old: Row | null;
  new: Row | null;
  opChanged: boolean;
}

/** The copy-on-write overlay of one transaction. */
export class TxnView {
  /** The committed database underneath. */
  readonly db: Database;
  /** Touched rows per table, in the order tables and rows were first touched. */
  readonly touched = new Map<string, Map<string, TxnEntry>>();
  /** Uuids deleted by this transaction (they may not be reused by "insert" with "uuid"). */
  readonly deleted = new Map<string, Set<string>>();

  constructor(db: Database) {
    this.db = db;
  }

  /** The committed table called `name`. */
  base(name: string): Table {
    return this.db.table(name);
  }

  /** The touched rows of table `name` (created on demand). */
  entries(name: string): Map<string, TxnEntry> {
    let m = this.touched.get(name);
    if (!m) this.touched.set(name, (m = new Map()));
    return m;
  }

  /** The current version of a row, or undefined if it does not exist in the view. */
  get(table: string, uuid: string): Row | undefined {
    const e = this.touched.get(table)?.get(uuid);
    if (e) return e.new ?? undefined;
    return this.db.table(table).rows.get(uuid);
  }

  /** True if `uuid` may be used for a new row of `table` (not present, not deleted here). */
  mayCreate(table: string, uuid: string): boolean {
    return this.get(table, uuid) === undefined && !this.deleted.get(table)?.has(uuid);
  }

  /** Adds a new row. */
  insert(table: string, row: Row): void {
    this.entries(table).set(row.uuid, { old: null, new: row, opChanged: true });
  }

  /** Replaces the current version of an existing row. */
  update(table: string, row: Row, opChanged = true): void {
    const m = this.entries(table);
    const e = m.get(row.uuid);
    if (e) {
      e.new = row;
      e.opChanged ||= opChanged;
    } else {
      m.set(row.uuid, { old: this.db.table(table).rows.get(row.uuid)!, new: row, opChanged });
    }
  }

  /** Deletes an existing row. */
  delete(table: string, uuid: string): void {
    const m = this.entries(table);
    const e = m.get(uuid);
    if (e && !e.old) m.delete(uuid);
    else if (e) e.new = null;
    else m.set(uuid, { old: this.db.table(table).rows.get(uuid)!, new: null, opChanged: true });
    let d = this.deleted.get(table);
    if (!d) this.deleted.set(table, (d = new Set()));
    d.add(uuid);
  }

  /** Current rows of `table`: committed order first, then rows inserted by this transaction. */
  *rows(table: string): Iterable<Row> {
    const m = this.touched.get(table);
    const base = this.db.table(table).rows;
    if (!m || m.size === 0) {
      yield* base.values();
      return;
    }
    for (const [uuid, row] of base) {
      const e = m.get(uuid);
      if (!e) yield row;
      else if (e.new) yield e.new;
    }
    for (const e of m.values()) if (!e.old && e.new) yield e.new;
  }

  /** Rows of `table` matching `cond`, using the `_uuid ==` fast path when present. */
  query(table: string, cond: Condition): Row[] {
    const pinned = cond.pinnedUuid();
    if (pinned !== undefined) {
      const row = this.get(table, pinned);
      return row && cond.matches(row) ? [row] : [];
    }
    const out: Row[] = [];
    for (const row of this.rows(table)) if (cond.matches(row)) out.push(row);
    return out;
  }
}
