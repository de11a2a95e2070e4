/**
 * A copy-on-write view of a database during one transaction: reads fall through to the committed
 * tables, writes land in a per-table overlay. The committed database is never modified.
 */
import type { Condition } from './condition.js';
import type { Database, Table } from './database.js';
import type { Datum } from './datum.js';
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

  /**
   * Rows of `table` matching `cond`, in the order of rows(): by `_uuid ==` when present, else by a
   * unique index whose every column the condition pins with `==`, else by a scan of the table.
   */
  query(table: string, cond: Condition): Row[] {
    const pinned = cond.pinnedUuid();
    if (pinned !== undefined) {
      const row = this.get(table, pinned);
      return row && cond.matches(row) ? [row] : [];
    }
    return this.indexedQuery(table, cond) ?? this.scan(table, cond);
  }

  private scan(table: string, cond: Condition): Row[] {
    const out: Row[] = [];
    for (const row of this.rows(table)) if (cond.matches(row)) out.push(row);
    return out;
  }

  /**
   * The index lookup of query(), or undefined when it does not apply. Committed rows are unique
   * per index key, so at most one untouched committed row matches (the index hit); a committed row
   * this transaction modified matches by its new version; rows inserted here follow, as in rows().
   * Uniqueness is checked only at commit (RFC 7047 §3.1 "indexes"), so two committed rows may match
   * in the view: their order among committed rows matters and only a scan gives it.
   */
  private indexedQuery(table: string, cond: Condition): Row[] | undefined {
    const base = this.db.table(table);
    const i = findPinnedIndex(base.schema.indexes, cond);
    if (i < 0) return undefined;
    const m = this.touched.get(table);
    const probe: Record<string, Datum> = {};
    for (const c of cond.clauses) if ('column' in c && c.fn === '==') probe[c.column.name] = c.arg;
    const uuid = base.indexes[i]!.get(base.plan.indexKeys[i]!({ uuid: '', version: '', columns: probe }));
    const committed: Row[] = [];
    const hit = uuid === undefined ? undefined : base.rows.get(uuid);
    if (hit && !m?.has(hit.uuid) && cond.matches(hit)) committed.push(hit);
    const inserted: Row[] = [];
    if (m) {
      for (const e of m.values()) {
        if (!e.new || !cond.matches(e.new)) continue;
        (e.old ? committed : inserted).push(e.new);
      }
    }
    if (committed.length > 1) return undefined;
    return committed.length === 0 ? inserted : [...committed, ...inserted];
  }
}

/** The first schema index all of whose columns `cond` tests with `==` (-1 if none). */
function findPinnedIndex(indexes: readonly (readonly string[])[], cond: Condition): number {
  if (indexes.length === 0) return -1;
  for (let i = 0; i < indexes.length; i++) {
    const idx = indexes[i]!;
    if (idx.every((name) => name !== '_uuid' && name !== '_version' &&
        cond.clauses.some((c) => 'column' in c && c.fn === '==' && c.column.name === name))) return i;
  }
  return -1;
}
