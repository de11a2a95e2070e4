/**
 * Commit-time checks of a transaction (ovsdb(7) and ovsdb-server 3.1's precommit, in its order):
 * drop no-op changes, strong reference counts and referential integrity, garbage collection of
 * unreferenced non-root rows, maxRows, weak reference removal, unique indexes, new versions.
 */
import { ZERO_UUID } from './atom.js';
import type { Table } from './database.js';
import { EMPTY_SET, type Datum, datumEquals, datumToString, findKey, freezeDatum } from './datum.js';
import { OvsdbError, constraintViolation } from './errors.js';
import { type RefColumn, refTargets } from './refs.js';
import { type Row, makeRow, rowContentEquals } from './row.js';
import type { TableSchema } from './schema.js';
import type { IndexKey } from './table-plan.js';
import type { Changes, TxnEnv } from './transaction-types.js';
import type { TxnEntry, TxnView } from './txn-view.js';

/** Runs all commit-time checks; returns the change set (null if nothing changed). */
export function finishTransaction(view: TxnView, env: TxnEnv): Changes | null {
  dropNoOps(view);
  const refs = new RefCounts(view);
  refs.apply();
  collectGarbage(view, refs);
  checkMaxRows(view);
  // Rows found changed above stay changed unless the weak reference pass changes them again.
  dropNoOpsAmong(view, assessWeakRefs(view));
  checkIndexes(view);
  return toChanges(view, env);
}

function dropNoOps(view: TxnView): void {
  for (const [tname, m] of view.touched) {
    let ts: TableSchema | undefined;
    for (const [uuid, e] of m) {
      if (!e.old) {
        if (!e.new) m.delete(uuid);
        continue;
      }
      ts ??= view.base(tname).schema;
      if (e.new && rowContentEquals(ts, e.old, e.new, datumEquals)) m.delete(uuid);
    }
  }
}

function dropNoOpsAmong(view: TxnView, entries: readonly [string, TxnEntry][]): void {
  for (const [tname, e] of entries) {
    if (e.old && e.new && rowContentEquals(view.base(tname).schema, e.old, e.new, datumEquals)) {
      view.touched.get(tname)!.delete(e.old.uuid);
    }
  }
}

/** Strong reference counts after the transaction: committed count + delta. */
class RefCounts {
  private readonly delta = new Map<string, Map<string, number>>();
  constructor(private readonly view: TxnView) {}

  count(table: string, uuid: string): number {
    // A row inserted by this transaction has no committed references (they would have dangled).
    const e = this.view.touched.get(table)?.get(uuid);
    const committed = e && !e.old ? 0 : this.view.base(table).refCount(uuid);
    return committed + (this.delta.get(table)?.get(uuid) ?? 0);
  }

  add(table: string, uuid: string, n: number): void {
    let m = this.delta.get(table);
    if (!m) this.delta.set(table, (m = new Map()));
    m.set(uuid, (m.get(uuid) ?? 0) + n);
  }

  /** Tables and rows whose count went down (garbage collection candidates). */
  decreased(): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    for (const [t, m] of this.delta) for (const [u, n] of m) if (n < 0) out.push([t, u]);
    return out;
  }

  /** update_ref_counts: adjust for every changed row, then refuse deleting referenced rows. */
  apply(): void {
    for (const [tname, m] of this.view.touched) {
      const strong = this.view.base(tname).plan.strongRefs;
      if (strong.length === 0) continue;
      for (const e of m.values()) {
        if (e.old) for (const rc of strong) for (const target of refTargets(e.old, rc)) this.add(rc.refTable, target, -1);
        if (e.new) this.addNew(tname, strong, e.new);
      }
    }
    for (const [tname, m] of this.view.touched) {
      for (const [uuid, e] of m) {
        const n = e.new ? 0 : this.count(tname, uuid);
        if (n > 0) {
          throw new OvsdbError('referential integrity violation',
            `cannot delete ${tname} row ${uuid} because of ${n} remaining reference(s)`);
        }
      }
    }
  }

  private addNew(tname: string, strong: readonly RefColumn[], row: Row): void {
    for (const rc of strong) {
      for (const target of refTargets(row, rc)) {
        if (!this.view.get(rc.refTable, target)) {
          throw new OvsdbError('referential integrity violation', `Table ${tname} column ${rc.column} ` +
            `row ${row.uuid} references nonexistent row ${target} in table ${rc.refTable}.`);
        }
        this.add(rc.refTable, target, 1);
      }
    }
  }
}

/** ovsdb(7): non-root rows that no strong reference reaches are deleted, cascading. */
function collectGarbage(view: TxnView, refs: RefCounts): void {
  const work: Array<[string, string]> = refs.decreased();
  // Rows of root tables are never collected: leaving them out of the work list changes nothing.
  for (const [tname, m] of view.touched) {
    if (view.base(tname).schema.isRoot) continue;
    for (const [uuid, e] of m) if (e.new) work.push([tname, uuid]);
  }
  while (work.length) {
    const [tname, uuid] = work.pop()!;
    const table = view.base(tname);
    if (table.schema.isRoot) continue;
    const row = view.get(tname, uuid);
    if (!row || refs.count(tname, uuid) > 0) continue;
    view.delete(tname, uuid);
    for (const rc of table.plan.strongRefs) {
      for (const target of refTargets(row, rc)) {
        refs.add(rc.refTable, target, -1);
        work.push([rc.refTable, target]);
      }
    }
  }
}

function checkMaxRows(view: TxnView): void {
  for (const [tname, m] of view.touched) {
    const table = view.base(tname);
    const max = table.schema.maxRows;
    if (max === undefined) continue;
    let n = table.rows.size;
    for (const e of m.values()) n += (e.new ? 1 : 0) - (e.old ? 1 : 0);
    if (n > max) {
      throw constraintViolation(`transaction causes "${tname}" table to contain ${n} rows, ` +
        `greater than the schema-defined limit of ${max} row(s)`);
    }
  }
}

/**
 * Removes weak references to rows that do not exist after the transaction. Like OVS 3.1, rows
 * changed by the transaction's operations only have their newly added references checked, while
 * unchanged rows that referenced a deleted row are re-checked in full.
 */
function assessWeakRefs(view: TxnView): Array<[string, TxnEntry]> {
  const changed: Array<[string, TxnEntry]> = [];
  // Rows added to `touched` while iterating are updates (they have a new version): skipped below.
  if (view.deleted.size) {
    for (const [tname, m] of view.touched) {
      for (const [uuid, e] of m) {
        if (!e.old || e.new) continue;
        const referrers = view.base(tname).weakReferrers.get(uuid);
        if (referrers) markReferrers(view, referrers, changed);
      }
    }
  }
  for (const [tname, m] of view.touched) {
    const table = view.base(tname);
    const weak = table.plan.weakRefs;
    if (weak.length === 0) continue;
    for (const e of m.values()) if (e.new && assessRow(view, table.schema, weak, e)) changed.push([tname, e]);
  }
  return changed;
}

/** Touches every unchanged row that holds a weak reference to a deleted row ("table uuid" keys). */
function markReferrers(view: TxnView, referrers: Map<string, number>, marked: Array<[string, TxnEntry]>): void {
  for (const key of referrers.keys()) {
    const sp = key.indexOf(' ');
    const st = key.slice(0, sp);
    const su = key.slice(sp + 1);
    if (view.touched.get(st)?.has(su)) continue;
    view.update(st, view.base(st).rows.get(su)!, false);
    marked.push([st, view.touched.get(st)!.get(su)!]);
  }
}

/** Drops dangling weak references from the new version of `e`; true if it changed. */
function assessRow(view: TxnView, ts: TableSchema, weak: readonly RefColumn[], e: TxnEntry): boolean {
  let columns: Record<string, Datum> | undefined;
  for (const rc of weak) {
    const cur = (columns ?? e.new!.columns)[rc.column]!;
    const atoms = rc.part === 'key' ? cur.keys : cur.values!;
    if (atoms.length === 0) continue;
    const old = e.old && e.opChanged ? e.old.columns[rc.column]! : undefined;
    let keep: boolean[] | undefined;
    let removed = 0;
    let zero = false;
    for (let i = 0; i < atoms.length; i++) {
      const target = atoms[i] as string;
      const added = !old || !hasRef(old, rc, cur.keys[i]!, target);
      const ok = !added || view.get(rc.refTable, target) !== undefined;
      if (!ok && !keep) keep = new Array<boolean>(i).fill(true);
      keep?.push(ok);
      if (!ok) {
        removed++;
        if (target === ZERO_UUID) zero = true;
      }
    }
    if (!keep) continue;
    const d = filterDatum(cur, keep);
    const type = ts.columns.get(rc.column)!.type;
    if (d.keys.length < type.min) {
      const row = e.new!.uuid;
      if (zero && !e.old) {
        throw constraintViolation(`Weak reference column "${rc.column}" in "${ts.name}" row ${row} (inserted ` +
          'within this transaction) contained all-zeros UUID (probably as the default value for this column) ' +
          'but deleting this value caused a constraint volation because this column is not allowed to be empty.');
      }
      throw constraintViolation(`Deletion of ${removed} weak reference(s) to deleted (or never-existing) rows ` +
        `from column "${rc.column}" in "${ts.name}" row ${row} ${e.old ? '' : '(inserted within this transaction) '}` +
        'caused this column to become empty, but constraints on this column disallow an empty column.');
    }
    columns ??= { ...e.new!.columns };
    columns[rc.column] = d;
  }
  if (!columns) return false;
  e.new = makeRow(e.new!.uuid, e.new!.version, columns);
  return true;
}

function hasRef(old: Datum, rc: RefColumn, key: unknown, target: string): boolean {
  if (rc.part === 'key') return findKey(old, target) >= 0;
  const j = findKey(old, key as string);
  return j >= 0 && old.values![j] === target;
}

function filterDatum(d: Datum, keep: boolean[]): Datum {
  const keys = d.keys.filter((_, i) => keep[i]);
  if (!d.values) return keys.length ? freezeDatum(keys) : EMPTY_SET;
  return freezeDatum(keys, d.values.filter((_, i) => keep[i]));
}

function checkIndexes(view: TxnView): void {
  for (const [tname, m] of view.touched) {
    if (m.size === 0) continue;
    const table = view.base(tname);
    const keyFns = table.plan.indexKeys;
    for (let i = 0; i < keyFns.length; i++) {
      const keyOf = keyFns[i]!;
      const seen = m.size > 1 ? new Map<IndexKey, Row>() : undefined;
      for (const e of m.values()) {
        if (!e.new) continue;
        const k = keyOf(e.new);
        const other = seen?.get(k) ?? committedHolder(table, m, i, k, e.new.uuid);
        if (other) throw duplicateIndexError(view, table.schema, table.schema.indexes[i]!, e.new, other);
        seen?.set(k, e.new);
      }
    }
  }
}

/** The committed row holding index key `k`, if it still holds it after the transaction. */
function committedHolder(table: Table, touched: Map<string, TxnEntry>, i: number, k: IndexKey,
                         self: string): Row | undefined {
  const uuid = table.indexes[i]!.get(k);
  if (uuid === undefined || uuid === self || touched.has(uuid)) return undefined;
  return table.rows.get(uuid);
}

function englishList(items: string[]): string {
  if (items.length <= 2) return items.join(' and ');
  return `${items.slice(0, -1).join(', ')}, and ${items[items.length - 1]}`;
}

function indexValues(ts: TableSchema, idx: readonly string[], row: Row): string {
  return englishList(idx.map((c) => {
    const col = ts.column(c)!;
    if (c === '_uuid') return row.uuid;
    if (c === '_version') return row.version;
    return datumToString(col.type, row.columns[c]!);
  }));
}

function describeRow(view: TxnView, ts: TableSchema, idx: readonly string[], row: Row, title: string): string {
  const e = view.touched.get(ts.name)?.get(row.uuid);
  let s = `${title} row, with UUID ${row.uuid}, `;
  if (!e) s += 'existed in the database before this transaction and was not modified by the transaction.';
  else if (!e.old) s += 'was inserted by this transaction.';
  else if (indexValues(ts, idx, e.old) === indexValues(ts, idx, row)) {
    s += "existed in the database before this transaction, which modified some of the row's columns " +
      'but not any columns in this index.';
  } else s += `had the following index values before the transaction: ${indexValues(ts, idx, e.old)}.`;
  return s;
}

function duplicateIndexError(view: TxnView, ts: TableSchema, idx: readonly string[], a: Row, b: Row): OvsdbError {
  const cols = englishList(idx.map((c) => `"${c}"`));
  return constraintViolation(`Transaction causes multiple rows in "${ts.name}" table to have identical values ` +
    `(${indexValues(ts, idx, a)}) for index on column${idx.length > 1 ? 's' : ''} ${cols}.  ` +
    `${describeRow(view, ts, idx, a, 'First')}  ${describeRow(view, ts, idx, b, 'Second')}`);
}

/** The touched rows become the change set; modified rows get their new version uuid. */
function toChanges(view: TxnView, env: TxnEnv): Changes | null {
  const out: Changes = new Map();
  for (const [tname, m] of view.touched) {
    if (m.size === 0) continue;
    for (const [uuid, e] of m) {
      if (e.new && e.old) e.new = makeRow(uuid, env.newUuid(), e.new.columns as Record<string, Datum>);
    }
    out.set(tname, m);
  }
  return out.size ? out : null;
}
