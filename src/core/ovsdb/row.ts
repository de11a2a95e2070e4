/** Rows: immutable values of one table row (RFC 7047 §5.1 <row>), with `_uuid` and `_version`. */
import { scalarDatum, type Datum } from './datum.js';
import type { ColumnSchema, TableSchema } from './schema.js';
import { tablePlan } from './table-plan.js';

/** A row; a change makes a new Row (old ones stay valid for monitors). */
export interface Row {
  readonly uuid: string;
  readonly version: string;
  /** Every user column of the table schema. */
  readonly columns: Readonly<Record<string, Datum>>;
}

/**
 * Builds a frozen row. `columns` is not frozen at run time (its type is read-only): it is a copy of
 * the table's template (TableSchema.newColumns), and V8 gives each frozen copy of a spread object
 * its own hidden class, some 500 bytes per row.
 */
export function makeRow(uuid: string, version: string, columns: Record<string, Datum>): Row {
  return Object.freeze({ uuid, version, columns });
}

/** The value of `column` in `row`, including the implicit `_uuid` and `_version`. */
export function rowDatum(row: Row, column: ColumnSchema | string): Datum {
  const name = typeof column === 'string' ? column : column.name;
  if (name === '_uuid') return scalarDatum(row.uuid);
  if (name === '_version') return scalarDatum(row.version);
  return row.columns[name]!;
}

/** True if two rows hold the same user column values (uuid and version ignored). */
export function rowContentEquals(table: TableSchema, a: Row, b: Row, eq: (x: Datum, y: Datum) => boolean): boolean {
  if (a.columns === b.columns) return true;
  for (const c of tablePlan(table).columns) {
    const x = a.columns[c.name]!;
    const y = b.columns[c.name]!;
    if (x !== y && !eq(x, y)) return false;
  }
  return true;
}
