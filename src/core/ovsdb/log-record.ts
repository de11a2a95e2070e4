/**
 * Transaction and snapshot records of the standalone database file format (ovsdb(5)). OVS 3.1
 * writes modified rows as update2-style diffs and marks such records with "_is_diff": true;
 * replay accepts both diff and full-value records.
 */
import { assert } from './atom.js';
import type { Database } from './database.js';
import {
  type Datum, applyDatumDiff, datumDiff, datumEquals, datumFromJSON, datumToJSON, defaultDatum,
} from './datum.js';
import { syntaxError } from './errors.js';
import { isUuid } from './json.js';
import { type Row, makeRow } from './row.js';
import type { DatabaseSchema, TableSchema } from './schema.js';
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

function rowRecord(ts: TableSchema, ch: RowChange): Record<string, unknown> | null {
  if (!ch.new) return null;
  const out: Record<string, unknown> = {};
  for (const c of ts.columns.values()) {
    if (c.ephemeral) continue;
    const nv = ch.new.columns[c.name]!;
    if (!ch.old) {
      if (!datumEquals(nv, defaultDatum(c.type))) out[c.name] = datumToJSON(c.type, nv);
    } else {
      const ov = ch.old.columns[c.name]!;
      if (!datumEquals(ov, nv)) out[c.name] = datumToJSON(c.type, datumDiff(c.type, ov, nv));
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
    const ts = schema.tables.get(tname)!;
    const t: Record<string, unknown> = {};
    let n = 0;
    for (const [uuid, ch] of rows) {
      const r = rowRecord(ts, ch);
      // A modified row whose only changes are ephemeral columns leaves no trace on disk.
      if (r && ch.old && Object.keys(r).length === 0) continue;
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
    const t: Record<string, unknown> = {};
    for (const row of rows.values()) t[row.uuid] = rowRecord(ts, { old: null, new: row });
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
    assert(typeof tjson === 'object' && tjson !== null, `table ${tname} record is an object`);
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
