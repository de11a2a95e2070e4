/**
 * Database schemas (RFC 7047 §3.2, ovsdb(7)): tables, columns, indexes, root set, maxRows.
 * Parse errors name the JSON path of the offending member.
 */
import { OvsdbError } from './errors.js';
import {
  type BaseType, type ColumnType, columnTypeFromJSON, columnTypeToJSON,
  isWeakRef, scalarType, schemaError,
} from './types.js';

/** A column of a table schema (RFC 7047 §3.2 <column-schema>). */
export interface ColumnSchema {
  readonly name: string;
  readonly type: ColumnType;
  readonly ephemeral: boolean;
  readonly mutable: boolean;
}

/** The implicit `_uuid` column (ovsdb(7)): selectable, never writable. */
export const UUID_COLUMN: ColumnSchema = Object.freeze({
  name: '_uuid', type: scalarType('uuid'), ephemeral: false, mutable: false,
});
/** The implicit `_version` column (ovsdb(7)): selectable, never writable. */
export const VERSION_COLUMN: ColumnSchema = Object.freeze({
  name: '_version', type: scalarType('uuid'), ephemeral: false, mutable: false,
});

const ID_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function isObject(json: unknown): json is Record<string, unknown> {
  return typeof json === 'object' && json !== null && !Array.isArray(json);
}

function checkMembers(json: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(json)) {
    if (!allowed.includes(k)) throw schemaError(`${path}.${k}`, `Member '${k}' is present but not allowed here`);
  }
}

function checkName(name: string, path: string, reservedOk: boolean): void {
  if (!ID_RE.test(name)) throw schemaError(path, `"${name}" is not a valid name`);
  if (!reservedOk && name.startsWith('_')) throw schemaError(path, 'names beginning with "_" are reserved');
}

import { type Datum, defaultDatum } from './datum.js';

/** A table of a schema (RFC 7047 §3.2 <table-schema>). */
export class TableSchema {
  /** Name of the table. */
  readonly name: string;
  /** The user columns in schema order (without `_uuid` and `_version`). */
  readonly columns: Map<string, ColumnSchema>;
  /** True if rows are kept without references (ovsdb(7) garbage collection). */
  isRoot: boolean;
  /** Row limit, if any. */
  readonly maxRows?: number;
  /** Unique indexes, as lists of column names. */
  readonly indexes: string[][];
  /** Whether isRoot was given explicitly in the JSON. */
  readonly isRootGiven: boolean;

  constructor(name: string, columns: Map<string, ColumnSchema>, opts: {
    isRoot: boolean; isRootGiven: boolean; maxRows?: number; indexes: string[][];
  }) {
    this.name = name;
    this.columns = columns;
    this.isRoot = opts.isRoot;
    this.isRootGiven = opts.isRootGiven;
    if (opts.maxRows !== undefined) this.maxRows = opts.maxRows;
    this.indexes = opts.indexes;
  }

  private template: Record<string, Datum> | undefined;

  /**
   * A fresh columns object holding every column's default, to fill in: `{...template}` copies a V8 object in
   * fast mode. Built by assigning columns one by one, an object of more than a dozen columns falls into
   * dictionary mode and costs several times the memory; JSON.parse builds it fast.
   */
  newColumns(): Record<string, Datum> {
    if (this.template === undefined) {
      const names: Record<string, 0> = {};
      for (const name of this.columns.keys()) names[name] = 0;
      const template = JSON.parse(JSON.stringify(names)) as Record<string, Datum>;
      for (const c of this.columns.values()) template[c.name] = defaultDatum(c.type);
      this.template = template;
    }
    return { ...this.template };
  }

  /** Looks a column up by name, including the implicit `_uuid` and `_version`. */
  column(name: string): ColumnSchema | undefined {
    if (name === '_uuid') return UUID_COLUMN;
    if (name === '_version') return VERSION_COLUMN;
    return this.columns.get(name);
  }

  /** Parses a <table-schema>; `path` names it in error messages. */
  static fromJSON(name: string, json: unknown, path: string): TableSchema {
    if (!isObject(json)) throw schemaError(path, 'expected an object');
    checkMembers(json, ['columns', 'maxRows', 'isRoot', 'indexes'], path);
    if (!isObject(json.columns)) throw schemaError(`${path}.columns`, 'required object member "columns" is missing');
    const columns = new Map<string, ColumnSchema>();
    for (const [cname, cjson] of Object.entries(json.columns)) {
      const cpath = `${path}.columns.${cname}`;
      checkName(cname, cpath, false);
      columns.set(cname, columnFromJSON(cname, cjson, cpath));
    }
    if (columns.size === 0) throw schemaError(`${path}.columns`, 'table must have at least one column');
    let maxRows: number | undefined;
    if (json.maxRows !== undefined) {
      if (typeof json.maxRows !== 'number' || !Number.isInteger(json.maxRows) || json.maxRows < 1) {
        throw schemaError(`${path}.maxRows`, 'maxRows must be at least 1');
      }
      maxRows = json.maxRows;
    }
    if (json.isRoot !== undefined && typeof json.isRoot !== 'boolean') {
      throw schemaError(`${path}.isRoot`, 'expected a boolean');
    }
    const ts = new TableSchema(name, columns, {
      isRoot: json.isRoot === true, isRootGiven: json.isRoot !== undefined,
      ...(maxRows !== undefined ? { maxRows } : {}), indexes: [],
    });
    ts.indexes.push(...indexesFromJSON(ts, json.indexes, `${path}.indexes`));
    return ts;
  }

  /** The schema JSON of this table; `defaultIsRoot` mirrors ovsdb_table_schema_to_json. */
  toJSON(defaultIsRoot = false): Record<string, unknown> {
    const columns: Record<string, unknown> = {};
    for (const c of this.columns.values()) {
      const cj: Record<string, unknown> = { type: columnTypeToJSON(c.type) };
      if (c.ephemeral) cj.ephemeral = true;
      if (!c.mutable) cj.mutable = false;
      columns[c.name] = cj;
    }
    const out: Record<string, unknown> = { columns };
    if (this.isRoot !== defaultIsRoot) out.isRoot = this.isRoot;
    if (this.maxRows !== undefined) out.maxRows = this.maxRows;
    if (this.indexes.length) out.indexes = this.indexes.map((i) => [...i]);
    return out;
  }
}

function columnFromJSON(name: string, json: unknown, path: string): ColumnSchema {
  if (!isObject(json)) throw schemaError(path, 'expected an object');
  checkMembers(json, ['type', 'ephemeral', 'mutable'], path);
  if (json.type === undefined) throw schemaError(path, "Required 'type' member is missing");
  const type = columnTypeFromJSON(json.type, `${path}.type`);
  for (const k of ['ephemeral', 'mutable'] as const) {
    if (json[k] !== undefined && typeof json[k] !== 'boolean') throw schemaError(`${path}.${k}`, 'expected a boolean');
  }
  // ovsdb(7): a weak reference must be able to change when its target goes away, so OVS
  // silently treats immutable weak reference columns as mutable.
  const weak = isWeakRef(type.key) || (type.value !== undefined && isWeakRef(type.value));
  return Object.freeze({
    name, type, ephemeral: json.ephemeral === true, mutable: json.mutable !== false || weak,
  });
}

function indexesFromJSON(ts: TableSchema, json: unknown, path: string): string[][] {
  if (json === undefined) return [];
  if (!Array.isArray(json)) throw schemaError(path, 'expected an array of indexes');
  return json.map((idx, i) => {
    const ipath = `${path}[${i}]`;
    if (!Array.isArray(idx) || idx.some((c) => typeof c !== 'string') || new Set(idx).size !== idx.length) {
      throw schemaError(ipath, 'array of distinct column names expected');
    }
    if (idx.length === 0) throw schemaError(ipath, 'index must have at least one column');
    for (const c of idx as string[]) {
      const col = ts.column(c);
      if (!col) throw schemaError(ipath, `unknown column "${c}"`);
      if (col.ephemeral) throw schemaError(ipath, `ephemeral columns (such as ${c}) may not be indexed`);
    }
    return [...(idx as string[])];
  });
}

/** A database schema (RFC 7047 §3.2 <database-schema>). */
export class DatabaseSchema {
  /** Database name. */
  readonly name: string;
  /** Schema version "x.y.z" ("" if absent). */
  readonly version: string;
  /** Optional checksum string. */
  readonly cksum?: string;
  /** Tables in schema order. */
  readonly tables: Map<string, TableSchema>;

  private constructor(name: string, version: string, cksum: string | undefined, tables: Map<string, TableSchema>) {
    this.name = name;
    this.version = version;
    if (cksum !== undefined) this.cksum = cksum;
    this.tables = tables;
  }

  /** Parses and validates a schema; throws OvsdbError("syntax error") naming the JSON path. */
  static fromJSON(json: unknown): DatabaseSchema {
    if (!isObject(json)) throw schemaError('schema', 'expected an object');
    checkMembers(json, ['name', 'version', 'cksum', 'tables'], 'schema');
    if (typeof json.name !== 'string') throw schemaError('name', "Required 'name' member is missing or not a string");
    checkName(json.name, 'name', true);
    let version = '';
    if (json.version !== undefined) {
      if (typeof json.version !== 'string' || !/^\d+\.\d+\.\d+$/.test(json.version)) {
        throw schemaError('version', `schema version ${JSON.stringify(json.version)} not in format x.y.z`);
      }
      version = json.version;
    }
    if (json.cksum !== undefined && typeof json.cksum !== 'string') throw schemaError('cksum', 'expected a string');
    if (!isObject(json.tables)) throw schemaError('tables', "Required 'tables' member is missing or not an object");
    const tables = new Map<string, TableSchema>();
    for (const [tname, tjson] of Object.entries(json.tables)) {
      checkName(tname, `tables.${tname}`, false);
      tables.set(tname, TableSchema.fromJSON(tname, tjson, `tables.${tname}`));
    }
    const schema = new DatabaseSchema(json.name, version, json.cksum as string | undefined, tables);
    schema.checkRefTables();
    // ovsdb(5)/ovsdb-tool: isRoot came later; a schema whose root set is empty predates garbage
    // collection, so every table is then a root table.
    if (![...tables.values()].some((t) => t.isRoot)) for (const t of tables.values()) t.isRoot = true;
    return schema;
  }

  private checkRefTables(): void {
    for (const t of this.tables.values()) {
      for (const c of t.columns.values()) {
        const check = (b: BaseType | undefined, which: string) => {
          if (b?.refTable !== undefined && !this.tables.has(b.refTable)) {
            throw schemaError(`tables.${t.name}.columns.${c.name}.type.${which}.refTable`,
              `unknown table "${b.refTable}"`);
          }
        };
        check(c.type.key, 'key');
        check(c.type.value, 'value');
      }
    }
  }

  /** Looks a table up, throwing the error ovsdb-server gives for unknown tables. */
  table(name: string): TableSchema {
    const t = this.tables.get(name);
    if (!t) throw new OvsdbError('syntax error', `No table named ${name}.`);
    return t;
  }

  /** The schema JSON (as `get_schema` returns it and `ovsdb-tool` writes it). */
  toJSON(): Record<string, unknown> {
    const all = [...this.tables.values()];
    const defaultIsRoot = all.length > 0 && all.every((t) => t.isRoot);
    const tables: Record<string, unknown> = {};
    for (const t of all) tables[t.name] = t.toJSON(defaultIsRoot);
    const out: Record<string, unknown> = { name: this.name, version: this.version };
    if (this.cksum !== undefined) out.cksum = this.cksum;
    out.tables = tables;
    return out;
  }
}

