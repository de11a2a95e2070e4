/**
 * The operations of RFC 7047 §5.2 executed against a TxnView: insert, select, update, mutate,
 * delete, wait, commit, abort, comment, assert. Results and errors are shaped as ovsdb-server's.
 */
import { type NamedUuidResolver, isUuid } from './atom.js';
import { compileCondition } from './condition.js';
import { type Datum, checkDatumAtoms, compareDatums, datumEquals, datumFromJSON } from './datum.js';
import { OvsdbError, syntaxError } from './errors.js';
import { rowToJSON } from './json.js';
import { applyMutation, compileMutations } from './mutation.js';
import { type OpParser, parseColumns, parseRow } from './op-parser.js';
import { type Row, makeRow, rowDatum } from './row.js';
import type { TableSchema } from './schema.js';
import { tablePlan } from './table-plan.js';
import type { TxnEnv } from './transaction-types.js';
import type { TxnView } from './txn-view.js';

/** Thrown by "wait" when the transaction must be retried later. */
export class WaitBlocked {
  constructor(readonly timeoutMs: number) {}
}

/** State shared by the operations of one transaction. */
export interface ExecContext {
  readonly view: TxnView;
  readonly env: TxnEnv;
  readonly symtab: NamedUuidResolver & { isCreated(name: string): boolean; create(name: string, uuid?: string): string };
  readonly readOnly: boolean;
  readonly waitTimedOut: boolean;
  readonly elapsedMs: number | undefined;
  durable: boolean;
  comments: string[];
}

type OpFn = (x: ExecContext, p: OpParser) => Record<string, unknown>;

function writable(x: ExecContext, op: string): void {
  if (x.readOnly) {
    throw new OvsdbError('not allowed', `${op} operation not allowed when database server is in read only mode`);
  }
}

/** Refuses a write the client's role does not allow (ovsdb-server's RBAC checks, run before the write). */
function permitted(denied: string | null | undefined): void {
  if (denied !== null && denied !== undefined) throw new OvsdbError('permission error', denied);
}

function execInsert(x: ExecContext, p: OpParser): Record<string, unknown> {
  const table = p.table(x.view.db.schema.tables);
  const uuidName = p.member('uuid-name', 'id', true) as string | undefined;
  const uuidJson = p.member('uuid', 'string', true) as string | undefined;
  const rowJson = p.member('row', 'object');
  p.check();
  writable(x, 'insert');
  let uuid: string | undefined;
  if (uuidJson !== undefined) {
    if (!isUuid(uuidJson)) throw syntaxError(uuidJson, 'bad uuid');
    uuid = uuidJson.toLowerCase();
    if (!x.view.mayCreate(table!.name, uuid)) {
      throw syntaxError(uuidJson, 'This UUID would duplicate a UUID already present within the table ' +
        'or deleted within the same transaction.', 'duplicate uuid');
    }
  }
  if (uuidName !== undefined) {
    if (x.symtab.isCreated(uuidName)) {
      throw syntaxError(uuidName, 'This "uuid-name" appeared on an earlier "insert" operation.', 'duplicate uuid-name');
    }
    uuid = x.symtab.create(uuidName, uuid);
  }
  uuid ??= x.env.newUuid();
  const version = x.env.newUuid();
  const columns = table!.newColumns();
  const given = rowJson as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    const column = table!.column(name);
    if (!column) throw syntaxError(given, `No column ${name} in table ${table!.name}.`, 'unknown column');
    columns[name] = datumFromJSON(column.type, given[name], x.symtab);
  }
  // ovsdb-server checks every single-valued column, since defaults may violate constraints. Given
  // values passed the same checks while parsed, so only such defaults can fail (in schema order).
  for (const c of tablePlan(table!).badDefaults) checkDatumAtoms(c.type, columns[c.name]!);
  const row = makeRow(uuid, version, columns);
  permitted(x.env.authorize?.insert(table!.name, row));
  x.view.insert(table!.name, row);
  return { uuid: ['uuid', uuid] };
}

function execSelect(x: ExecContext, p: OpParser): Record<string, unknown> {
  const table = p.table(x.view.db.schema.tables);
  const where = p.member('where', 'array');
  const columnsJson = p.member('columns', 'array', true);
  p.check();
  const cond = compileCondition(table!, where, x.symtab);
  const columns = parseColumns(table!, columnsJson);
  return { rows: x.view.query(table!.name, cond).map((r) => rowToJSON(table!, r, columns)) };
}

function execUpdate(x: ExecContext, p: OpParser): Record<string, unknown> {
  const table = p.table(x.view.db.schema.tables);
  const where = p.member('where', 'array');
  const rowJson = p.member('row', 'object');
  p.check();
  writable(x, 'update');
  const given = parseRow(table!, rowJson, x.symtab);
  for (const c of given.keys()) {
    if (!c.mutable) {
      throw syntaxError(p.json, `Cannot update immutable column ${c.name} in table ${table!.name}.`,
        'constraint violation');
    }
  }
  const cond = compileCondition(table!, where, x.symtab);
  const rows = x.view.query(table!.name, cond);
  permitted(x.env.authorize?.update(table!.name, [...given.keys()].map((c) => c.name), rows, false));
  for (const row of rows) {
    let changed = false;
    const columns = { ...row.columns };
    for (const [c, d] of given) {
      if (!datumEquals(columns[c.name]!, d)) {
        columns[c.name] = d;
        changed = true;
      }
    }
    if (changed) x.view.update(table!.name, makeRow(row.uuid, row.version, columns));
  }
  return { count: rows.length };
}

function execMutate(x: ExecContext, p: OpParser): Record<string, unknown> {
  const table = p.table(x.view.db.schema.tables);
  const where = p.member('where', 'array');
  const mutationsJson = p.member('mutations', 'array');
  p.check();
  writable(x, 'mutate');
  const mutations = compileMutations(table!, mutationsJson, x.symtab);
  const cond = compileCondition(table!, where, x.symtab);
  const rows = x.view.query(table!.name, cond);
  permitted(x.env.authorize?.update(table!.name, mutations.map((m) => m.column.name), rows, true));
  for (const row of rows) {
    const columns = { ...row.columns };
    for (const m of mutations) columns[m.column.name] = applyMutation(m, columns[m.column.name]!);
    x.view.update(table!.name, makeRow(row.uuid, row.version, columns));
  }
  return { count: rows.length };
}

function execDelete(x: ExecContext, p: OpParser): Record<string, unknown> {
  const table = p.table(x.view.db.schema.tables);
  const where = p.member('where', 'array');
  p.check();
  writable(x, 'delete');
  const cond = compileCondition(table!, where, x.symtab);
  const rows = x.view.query(table!.name, cond);
  permitted(x.env.authorize?.delete(table!.name, rows));
  for (const row of rows) x.view.delete(table!.name, row.uuid);
  return { count: rows.length };
}

/** Projects a row onto `columns` for the set comparison of "wait". */
function projection(row: Row, names: readonly string[]): Datum[] {
  return names.map((n) => rowDatum(row, n));
}

function sameRowSets(a: Datum[][], b: Datum[][]): boolean {
  const inAll = (xs: Datum[][], ys: Datum[][]) =>
    xs.every((r) => ys.some((s) => r.every((d, i) => compareDatums(d, s[i]!) === 0)));
  return inAll(a, b) && inAll(b, a);
}

function execWait(x: ExecContext, p: OpParser): Record<string, unknown> {
  const table = p.table(x.view.db.schema.tables);
  const where = p.member('where', 'array');
  const columnsJson = p.member('columns', 'array', true);
  const until = p.member('until', 'string') as string | undefined;
  const rowsJson = p.member('rows', 'array') as unknown[] | undefined;
  const timeout = p.member('timeout', 'integer', true) as number | undefined;
  p.check();
  if (timeout !== undefined && timeout < 0) throw syntaxError(timeout, 'timeout must be nonnegative');
  if (until !== '==' && until !== '!=') throw syntaxError(until, '"until" must be "==" or "!="');
  const cond = compileCondition(table!, where, x.symtab);
  const names = parseColumns(table!, columnsJson) ?? ['_uuid', '_version', ...table!.columns.keys()];
  const expected = rowsJson!.map((rj) => {
    if (typeof rj !== 'object' || rj === null || Array.isArray(rj)) throw syntaxError(rj, 'row must be JSON object');
    return projection(expectedRow(table!, parseRow(table!, rj, x.symtab)), names);
  });
  const actual = x.view.query(table!.name, cond).map((r) => projection(r, names));
  if ((until === '==') === sameRowSets(actual, expected)) return {};
  return waitUnmet(x, timeout);
}

function expectedRow(table: TableSchema, given: Map<{ name: string }, Datum>): Row {
  const columns = table.newColumns();
  let uuid = '00000000-0000-0000-0000-000000000000';
  let version = uuid;
  for (const [c, d] of given) {
    if (c.name === '_uuid') uuid = d.keys[0] as string;
    else if (c.name === '_version') version = d.keys[0] as string;
    else columns[c.name] = d;
  }
  return makeRow(uuid, version, columns);
}

/** ovsdb-server(7): an unmet "wait" blocks the transaction until its timeout expires. */
function waitUnmet(x: ExecContext, timeout: number | undefined): never {
  if (timeout === 0) throw new OvsdbError('timed out', '"where" clause test failed');
  const limit = timeout ?? Infinity;
  const elapsed = x.waitTimedOut ? limit : x.elapsedMs ?? 0;
  if (elapsed >= limit) throw new OvsdbError('timed out', `"wait" timed out after ${elapsed} ms`);
  throw new WaitBlocked(limit - elapsed);
}

function execCommit(x: ExecContext, p: OpParser): Record<string, unknown> {
  const durable = p.member('durable', 'boolean') as boolean | undefined;
  p.check();
  if (durable) x.durable = true;
  return {};
}

function execAbort(_x: ExecContext, p: OpParser): Record<string, unknown> {
  p.check();
  throw new OvsdbError('aborted', 'aborted by request');
}

function execComment(x: ExecContext, p: OpParser): Record<string, unknown> {
  const comment = p.member('comment', 'string') as string | undefined;
  p.check();
  x.comments.push(comment!);
  return {};
}

function execAssert(x: ExecContext, p: OpParser): Record<string, unknown> {
  const lock = p.member('lock', 'id') as string | undefined;
  p.check();
  if (!x.env.hasLock?.(lock!)) throw new OvsdbError('not owner', `Asserted lock ${lock} not held.`);
  return {};
}

/** The executors by operation name. */
export const OPERATIONS: ReadonlyMap<string, OpFn> = new Map<string, OpFn>([
  ['insert', execInsert], ['select', execSelect], ['update', execUpdate], ['mutate', execMutate],
  ['delete', execDelete], ['wait', execWait], ['commit', execCommit], ['abort', execAbort],
  ['comment', execComment], ['assert', execAssert],
]);

