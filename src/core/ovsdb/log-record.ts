/**
 * Transaction and snapshot records of the standalone database file format (ovsdb(5)). OVS 3.1
 * writes modified rows as update2-style diffs and marks such records with "_is_diff": true;
 * replay accepts both diff and full-value records.
 */
import { assert } from './atom.js';
import type { Database } from './database.js';
import {
  applyDatumDiff, datumDiff, datumEquals, datumFromJSON, datumToJSON,
} from './datum.js';
import { syntaxError } from './errors.js';
import { isUuid } from './json.js';
import { type Row, makeRow } from './row.js';
import type { DatabaseSchema, TableSchema } from './schema.js';
import { type TablePlan, tablePlan } from './table-plan.js';
import type { Changes, RowChange } from './transaction-types.js';

/** Metadata written with a transaction record (ovsdb(5) "_date", "_comment"). */
export interface LogRecordMeta {
  /** Commit time in ms since the Unix epoch. */
  dateMs: number;
  /** Comment of the transaction's "comment" operations (written only if nonempty). */
  comment?: string;
}

function schemaOf(dbOrSchema: Database | DatabaseSchema): DatabaseSchema {
  return 'schema' in dbOrSchema ? dbOrSchema.schema : dbOrSchema;
}

/**
 * The record of one row change: null for a delete, the non-default columns of an insert, the
 * update2-style diff of the changed columns of a modify (ephemeral columns are never written).
 */
function rowRecord(plan: TablePlan, ch: RowChange): Record<string, unknown> | null {
  if (!ch.new) return null;
  const { columns, defaults } = plan;
  const out: Record<string, unknown> = {};
  const nc = ch.new.columns;
  const oc = ch.old?.columns;
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i]!;
    if (c.ephemeral) continue;
    const nv = nc[c.name]!;
    if (!oc) {
      const def = defaults[i]!;
      if (nv !== def && !datumEquals(nv, def)) out[c.name] = datumToJSON(c.type, nv);
    } else {
      const ov = oc[c.name]!;
      if (ov !== nv && !datumEquals(ov, nv)) out[c.name] = datumToJSON(c.type, datumDiff(c.type, ov, nv));
    }
  }
  return out;
}

/**
 * The ovsdb(5) transaction record for `changes` (diff form, "_is_diff": true). When nothing
 * durable changed (only ephemeral columns), it holds only "_date"/"_comment": see isEmptyLogRecord.
 */
export function changesToLogRecord(dbOrSchema: Database | DatabaseSchema, changes: Changes,
                                   meta: LogRecordMeta): Record<string, unknown> {
  const schema = schemaOf(dbOrSchema);
  const out: Record<string, unknown> = {};
  let any = false;
  for (const [tname, rows] of changes) {
    const plan = tablePlan(schema.tables.get(tname)!);
    const t = uuidKeyedObject();
    let n = 0;
    for (const [uuid, ch] of rows) {
      const r = rowRecord(plan, ch);
      // A modified row whose only changes are ephemeral columns leaves no trace on disk.
      if (r && ch.old && isEmptyObject(r)) continue;
      t[uuid] = r;
      n++;
    }
    if (n) {
      out[tname] = t;
      any = true;
    }
  }
  out._date = meta.dateMs;
  if (meta.comment) out._comment = meta.comment;
  if (any) out._is_diff = true;
  return out;
}

/**
 * An empty object for keys that are row uuids, made without a prototype: such an object starts in
 * V8's dictionary mode. A uuid new to an ordinary object makes a new hidden class for it, which
 * costs about twice a dictionary insert. (JSON.stringify and Object.keys treat both alike.)
 */
function uuidKeyedObject(): Record<string, unknown> {
  return Object.create(null) as Record<string, unknown>;
}

function isEmptyObject(o: Record<string, unknown>): boolean {
  for (const _ in o) return false;
  return true;
}

/** True if a record changes no table (OVS writes no record for such a commit). */
export function isEmptyLogRecord(record: Record<string, unknown>): boolean {
  return Object.keys(record).every((k) => k.startsWith('_'));
}

/** Version uuids for replay without an env: unique within the process (OVS draws random ones). */
let replayCounter = 0;
function replayVersion(): string {
  replayCounter++;
  return `00000000-0000-4000-8000-${replayCounter.toString(16).padStart(12, '0')}`;
}

/** A snapshot record holding every row (non-default, non-ephemeral columns), as compaction writes. */
export function snapshotRecord(db: Database, meta?: Partial<LogRecordMeta>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const ts of db.schema.tables.values()) {
    const rows = db.table(ts.name).rows;
    if (rows.size === 0) continue;
    const t = uuidKeyedObject();
    const plan = tablePlan(ts);
    for (const row of rows.values()) t[row.uuid] = rowRecord(plan, { old: null, new: row });
    out[ts.name] = t;
  }
  if (meta?.dateMs !== undefined) out._date = meta.dateMs;
  if (meta?.comment) out._comment = meta.comment;
  return out;
}

function rowFromRecord(ts: TableSchema, old: Row | undefined, json: Record<string, unknown>,
                       isDiff: boolean, uuid: string, version: string): Row {
  const columns = old ? { ...old.columns } : ts.newColumns();
  for (const [name, value] of Object.entries(json)) {
    const c = ts.columns.get(name);
    if (!c) throw syntaxError(json, `No column ${name} in table ${ts.name}.`, 'unknown column');
    if (old && isDiff) {
      // Diffs may exceed the column's size bounds (a set diff holds both removed and added atoms).
      const d = datumFromJSON({ ...c.type, min: 0, max: Infinity }, value);
      columns[name] = applyDatumDiff(c.type, old.columns[name]!, d);
    } else {
      columns[name] = datumFromJSON(c.type, value);
    }
  }
  return makeRow(uuid, version, columns);
}

/** Replays one transaction or snapshot record into `db` (no integrity checks: the file is trusted). */
export function applyLogRecord(db: Database, record: unknown, env?: { newUuid(): string }): Changes {
  const newVersion = env ? () => env.newUuid() : replayVersion;
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    throw syntaxError(record, 'database log record is not an object');
  }
  const rec = record as Record<string, unknown>;
  const isDiff = rec._is_diff === true;
  const changes: Changes = new Map();
  for (const [tname, tjson] of Object.entries(rec)) {
    if (tname.startsWith('_')) continue;
    const ts = db.schema.tables.get(tname);
    if (!ts) throw syntaxError(record, `No table named ${tname}.`);
    if (typeof tjson !== 'object' || tjson === null) assert(false, `table ${tname} record is an object`);
    const rows = new Map<string, RowChange>();
    for (const [uuid, rjson] of Object.entries(tjson as Record<string, unknown>)) {
      if (!isUuid(uuid)) throw syntaxError(uuid, `"${uuid}" is not a valid UUID`);
      const old = db.table(tname).rows.get(uuid) ?? null;
      if (rjson === null) {
        if (old) rows.set(uuid, { old, new: null });
        continue;
      }
      const nw = rowFromRecord(ts, old ?? undefined, rjson as Record<string, unknown>, isDiff, uuid, newVersion());
      rows.set(uuid, { old, new: nw });
    }
    if (rows.size) changes.set(tname, rows);
  }
  db.commit(changes);
  return changes;
}
