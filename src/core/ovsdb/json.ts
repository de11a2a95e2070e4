/** JSON helpers for rows (RFC 7047 §5.1 <row>) and uuids. */
import { isUuid as isUuidString } from './atom.js';
import { datumToJSON } from './datum.js';
import { syntaxError } from './errors.js';
import type { Row } from './row.js';
import type { TableSchema } from './schema.js';

/** True if `s` is a uuid string (8-4-4-4-12 hex digits). */
export function isUuid(s: unknown): s is string {
  return isUuidString(s);
}

/** Parses `["uuid", "..."]` or a bare uuid string into the canonical lowercase form. */
export function parseUuid(json: unknown): string {
  const s = Array.isArray(json) && json.length === 2 && json[0] === 'uuid' ? json[1] : json;
  if (!isUuid(s)) throw syntaxError(json, `${JSON.stringify(json)} is not a valid UUID`);
  return s.toLowerCase();
}

/**
 * A row as a select result or monitor row: the named columns, or all columns including `_uuid`
 * and `_version` when `columns` is omitted (as ovsdb-server's select does).
 */
export function rowToJSON(table: TableSchema, row: Row, columns?: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const names = columns ?? ['_uuid', '_version', ...table.columns.keys()];
  for (const name of names) {
    if (name === '_uuid') out._uuid = ['uuid', row.uuid];
    else if (name === '_version') out._version = ['uuid', row.version];
    else out[name] = datumToJSON(table.columns.get(name)!.type, row.columns[name]!);
  }
  return out;
}
