/**
 * The committed database: tables of immutable rows, unique indexes (RFC 7047 §3.2 "indexes"),
 * strong reference counts and weak back-references, all updated in time proportional to the rows
 * a commit changes.
 */
import { assert } from './atom.js';
import { refTargets } from './refs.js';
import type { Row } from './row.js';
import type { DatabaseSchema, TableSchema } from './schema.js';
import { type IndexKey, type TablePlan, compileIndexKey, tablePlan } from './table-plan.js';
import type { Changes } from './transaction-types.js';

export type { IndexKey } from './table-plan.js';

/** The key under which a row is stored in a unique index (see IndexKey). */
export function indexKey(table: TableSchema, index: readonly string[], row: Row): IndexKey {
  const i = table.indexes.indexOf(index as string[]);
  return i >= 0 ? tablePlan(table).indexKeys[i]!(row) : compileIndexKey(table, index)(row);
}

/** The key of a referring row in Table.weakReferrers: "table uuid". */
function weakReferrerKey(table: Table, row: Row): string {
  return `${table.schema.name} ${row.uuid}`;
}

/** One table of a database. */
export class Table {
  /** The table's schema. */
  readonly schema: TableSchema;
  /** Rows by uuid. */
  readonly rows: Map<string, Row> = new Map();
  /** One map per schema index: index key → row uuid. */
  readonly indexes: Map<IndexKey, string>[];
  /** Number of strong references to each referenced row of this table. */
  readonly strongRefs: Map<string, number> = new Map();
  /** Rows holding weak references to each row of this table: "table uuid" → count. */
  readonly weakReferrers: Map<string, Map<string, number>> = new Map();

  /** Derived facts of the schema, shared by the engine's hot paths. */
  readonly plan: TablePlan;

  constructor(schema: TableSchema) {
    this.schema = schema;
    this.indexes = schema.indexes.map(() => new Map());
    this.plan = tablePlan(schema);
  }

  /** Strong reference count of row `uuid`. */
  refCount(uuid: string): number {
    return this.strongRefs.get(uuid) ?? 0;
  }
}

/** A database: a schema and its tables. */
export class Database {
  /** The schema. */
  readonly schema: DatabaseSchema;
  private readonly tables = new Map<string, Table>();

  constructor(schema: DatabaseSchema) {
    this.schema = schema;
    for (const t of schema.tables.values()) this.tables.set(t.name, new Table(t));
  }

  /** The table called `name`; throws for unknown names (a programming error). */
  table(name: string): Table {
    const t = this.tables.get(name);
    // The message is built only on failure: this runs several times per transaction.
    if (!t) assert(false, `no table "${name}" in database "${this.schema.name}"`);
    return t;
  }

  /** Total number of rows in all tables. */
  rowCount(): number {
    let n = 0;
    for (const t of this.tables.values()) n += t.rows.size;
    return n;
  }

  /** Applies a change set produced by executeTransaction (or by log replay). */
  commit(changes: Changes): void {
    for (const [tname, rows] of changes) {
      const table = this.table(tname);
      for (const [uuid, ch] of rows) {
        if (ch.old) this.unlink(table, ch.old);
        if (ch.new) {
          if (ch.new.uuid !== uuid) assert(false, `row change key ${uuid} holds row ${ch.new.uuid}`);
          table.rows.set(uuid, ch.new);
        } else {
          table.rows.delete(uuid);
        }
      }
    }
    // Link after every unlink so that index entries moved between rows do not collide.
    for (const [tname, rows] of changes) {
      const table = this.table(tname);
      for (const ch of rows.values()) if (ch.new) this.link(table, ch.new);
    }
  }

  private unlink(table: Table, row: Row): void {
    const { indexKeys, strongRefs, weakRefs } = table.plan;
    for (let i = 0; i < indexKeys.length; i++) {
      const k = indexKeys[i]!(row);
      const index = table.indexes[i]!;
      if (index.get(k) === row.uuid) index.delete(k);
    }
    for (const rc of strongRefs) {
      const targets = refTargets(row, rc);
      if (targets.length === 0) continue;
      const counts = this.table(rc.refTable).strongRefs;
      for (const target of targets) {
        const n = (counts.get(target) ?? 0) - 1;
        if (n > 0) counts.set(target, n);
        else counts.delete(target);
      }
    }
    for (const rc of weakRefs) {
      const targets = refTargets(row, rc);
      if (targets.length === 0) continue;
      const src = weakReferrerKey(table, row);
      const referrers = this.table(rc.refTable).weakReferrers;
      for (const target of targets) {
        const m = referrers.get(target);
        if (!m) continue;
        const n = (m.get(src) ?? 0) - 1;
        if (n > 0) m.set(src, n);
        else m.delete(src);
        if (m.size === 0) referrers.delete(target);
      }
    }
  }

  private link(table: Table, row: Row): void {
    const { indexKeys, strongRefs, weakRefs } = table.plan;
    for (let i = 0; i < indexKeys.length; i++) table.indexes[i]!.set(indexKeys[i]!(row), row.uuid);
    for (const rc of strongRefs) {
      const targets = refTargets(row, rc);
      if (targets.length === 0) continue;
      const counts = this.table(rc.refTable).strongRefs;
      for (const target of targets) counts.set(target, (counts.get(target) ?? 0) + 1);
    }
    for (const rc of weakRefs) {
      const targets = refTargets(row, rc);
      if (targets.length === 0) continue;
      const src = weakReferrerKey(table, row);
      const referrers = this.table(rc.refTable).weakReferrers;
      for (const target of targets) {
        let m = referrers.get(target);
        if (!m) referrers.set(target, (m = new Map()));
        m.set(src, (m.get(src) ?? 0) + 1);
      }
    }
  }
}
