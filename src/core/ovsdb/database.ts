/**
 * The committed database: tables of immutable rows, unique indexes (RFC 7047 §3.2 "indexes"),
 * strong reference counts and weak back-references, all updated in time proportional to the rows
 * a commit changes.
 */
import { assert } from './atom.js';
import { datumToJSON } from './datum.js';
import { forEachRef } from './refs.js';
import type { Row } from './row.js';
import type { DatabaseSchema, TableSchema } from './schema.js';
import type { Changes } from './transaction-types.js';

/** The key under which a row is stored in a unique index. */
export function indexKey(table: TableSchema, index: readonly string[], row: Row): string {
  let s = '';
  for (const c of index) {
    if (c === '_uuid') s += row.uuid;
    else if (c === '_version') s += row.version;
    else s += JSON.stringify(datumToJSON(table.column(c)!.type, row.columns[c]!));
    s += '\u0000';
  }
  return s;
}

/** One table of a database. */
export class Table {
  /** The table's schema. */
  readonly schema: TableSchema;
  /** Rows by uuid. */
  readonly rows: Map<string, Row> = new Map();
  /** One map per schema index: index key → row uuid. */
  readonly indexes: Map<string, string>[];
  /** Number of strong references to each referenced row of this table. */
  readonly strongRefs: Map<string, number> = new Map();
  /** Rows holding weak references to each row of this table: "table uuid" → count. */
  readonly weakReferrers: Map<string, Map<string, number>> = new Map();

  constructor(schema: TableSchema) {
    this.schema = schema;
    this.indexes = schema.indexes.map(() => new Map());
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
    assert(t, `no table "${name}" in database "${this.schema.name}"`);
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
          assert(ch.new.uuid === uuid, `row change key ${uuid} holds row ${ch.new.uuid}`);
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
    table.schema.indexes.forEach((idx, i) => {
      const k = indexKey(table.schema, idx, row);
      if (table.indexes[i]!.get(k) === row.uuid) table.indexes[i]!.delete(k);
    });
    const src = `${table.schema.name} ${row.uuid}`;
    forEachRef(table.schema, row, (rc, target) => {
      const dst = this.table(rc.refTable);
      if (rc.weak) {
        const m = dst.weakReferrers.get(target);
        if (!m) return;
        const n = (m.get(src) ?? 0) - 1;
        if (n > 0) m.set(src, n);
        else m.delete(src);
        if (m.size === 0) dst.weakReferrers.delete(target);
      } else {
        const n = dst.refCount(target) - 1;
        if (n > 0) dst.strongRefs.set(target, n);
        else dst.strongRefs.delete(target);
      }
    });
  }

  private link(table: Table, row: Row): void {
    table.schema.indexes.forEach((idx, i) => {
      table.indexes[i]!.set(indexKey(table.schema, idx, row), row.uuid);
    });
    const src = `${table.schema.name} ${row.uuid}`;
    forEachRef(table.schema, row, (rc, target) => {
      const dst = this.table(rc.refTable);
      if (rc.weak) {
        let m = dst.weakReferrers.get(target);
        if (!m) dst.weakReferrers.set(target, (m = new Map()));
        m.set(src, (m.get(src) ?? 0) + 1);
      } else {
        dst.strongRefs.set(target, dst.refCount(target) + 1);
      }
    });
  }
}
