/**
 * Facts derived once per table schema for the per-transaction paths (insert, commit-time checks,
 * commit, log records): columns as arrays, defaults, reference columns, compiled index keys. Work
 * per transaction then stays proportional to the rows it touches, not to the schema.
 */
import { type Datum, checkDatumAtoms, defaultDatum } from './datum.js';
import { OvsdbError } from './errors.js';
import { type RefColumn, refColumns } from './refs.js';
import type { Row } from './row.js';
import type { ColumnSchema, TableSchema } from './schema.js';
import { isScalar } from './types.js';

/**
 * The key of a row in a unique index (RFC 7047 §3.2 "indexes"). Keys of one index always have one
 * form, so equal keys mean equal indexed values: the atom itself for a single scalar column,
 * otherwise a JSON text (flat, and injective since JSON escapes every string).
 */
export type IndexKey = string | number | boolean;

/** Computes the key of `row` in one index. */
export type IndexKeyFn = (row: Row) => IndexKey;

/** What the hot paths need to know about one table, computed on first use. */
export interface TablePlan {
  /** User columns in schema order. */
  readonly columns: readonly ColumnSchema[];
  /** Default datum of each column of `columns`, by position. */
  readonly defaults: readonly Datum[];
  /** Reference-holding column parts (see refColumns). */
  readonly refs: readonly RefColumn[];
  /** The strong ones of `refs`. */
  readonly strongRefs: readonly RefColumn[];
  /** The weak ones of `refs`. */
  readonly weakRefs: readonly RefColumn[];
  /** Single-valued columns whose default violates the column's constraints, in schema order. */
  readonly badDefaults: readonly ColumnSchema[];
  /** One key function per schema index, by position. */
  readonly indexKeys: readonly IndexKeyFn[];
}

const plans = new WeakMap<TableSchema, TablePlan>();

/** The plan of `table` (cached per schema object; indexes must be final, as after fromJSON). */
export function tablePlan(table: TableSchema): TablePlan {
  let plan = plans.get(table);
  if (!plan) {
    plan = buildPlan(table);
    plans.set(table, plan);
  }
  return plan;
}

function buildPlan(table: TableSchema): TablePlan {
  const columns = [...table.columns.values()];
  const defaults = columns.map((c) => defaultDatum(c.type));
  const refs = refColumns(table);
  const badDefaults = columns.filter((c, i) => defaults[i]!.keys.length === 1 && violates(c, defaults[i]!));
  return {
    columns, defaults, refs, badDefaults,
    strongRefs: refs.filter((rc) => !rc.weak),
    weakRefs: refs.filter((rc) => rc.weak),
    indexKeys: table.indexes.map((idx) => compileIndexKey(table, idx)),
  };
}

function violates(c: ColumnSchema, d: Datum): boolean {
  try {
    checkDatumAtoms(c.type, d);
    return false;
  } catch (e) {
    if (e instanceof OvsdbError) return true;
    throw e;
  }
}

/** The part of one indexed column that goes into a JSON key. */
function keyPart(table: TableSchema, name: string): (row: Row) => unknown {
  if (name === '_uuid') return (row) => row.uuid;
  if (name === '_version') return (row) => row.version;
  const type = table.column(name)!.type;
  if (isScalar(type)) return (row) => row.columns[name]!.keys[0];
  if (type.value) return (row) => [row.columns[name]!.keys, row.columns[name]!.values];
  return (row) => row.columns[name]!.keys;
}

/** Compiles the key function of `index` (column names of `table`). */
export function compileIndexKey(table: TableSchema, index: readonly string[]): IndexKeyFn {
  if (index.length === 1) {
    const name = index[0]!;
    if (name === '_uuid') return (row) => row.uuid;
    if (name === '_version') return (row) => row.version;
    if (isScalar(table.column(name)!.type)) return (row) => row.columns[name]!.keys[0]!;
    const part = keyPart(table, name);
    return (row) => JSON.stringify(part(row));
  }
  const parts = index.map((name) => keyPart(table, name));
  if (parts.length === 2) {
    const [a, b] = parts as [(row: Row) => unknown, (row: Row) => unknown];
    return (row) => JSON.stringify([a(row), b(row)]);
  }
  return (row) => JSON.stringify(parts.map((p) => p(row)));
}
