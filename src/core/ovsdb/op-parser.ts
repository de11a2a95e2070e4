/**
 * Member access for one transaction operation, mirroring ovsdb_parser: missing or mistyped
 * members and leftovers produce "syntax error" with "Parsing ovsdb operation N of M failed: ...".
 */
import type { NamedUuidResolver } from './atom.js';
import { type Datum, datumFromJSON } from './datum.js';
import { OvsdbError, syntaxError } from './errors.js';
import type { ColumnSchema, TableSchema } from './schema.js';

/** The JSON kinds an operation member may be required to have. */
export type MemberKind = 'id' | 'string' | 'array' | 'object' | 'boolean' | 'integer';

const ID_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function hasKind(v: unknown, kind: MemberKind): boolean {
  switch (kind) {
    case 'id': return typeof v === 'string' && ID_RE.test(v);
    case 'string': return typeof v === 'string';
    case 'array': return Array.isArray(v);
    case 'object': return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'boolean': return typeof v === 'boolean';
    case 'integer': return typeof v === 'number' && Number.isInteger(v);
  }
}

/** Reads members of one operation object and remembers the first parse error. */
export class OpParser {
  /** The operation JSON (null when it is not an object). */
  readonly json: Record<string, unknown> | null;
  private readonly index: number;
  private readonly total: number;
  /** Names of the members read so far (an operation has a handful: an array beats a Set). */
  private readonly used: string[] = [];
  /** The first parse error, if any. */
  error: OvsdbError | undefined = undefined;

  constructor(json: unknown, index: number, total: number) {
    this.index = index;
    this.total = total;
    if (typeof json === 'object' && json !== null && !Array.isArray(json)) {
      this.json = json as Record<string, unknown>;
    } else {
      this.json = null;
      this.error = new OvsdbError('syntax error', `Parsing ${this.name()} failed: Object expected.`);
    }
  }

  private name(): string {
    return `ovsdb operation ${this.index + 1} of ${this.total}`;
  }

  /** Records a parse error (only the first one is kept). */
  raise(msg: string): void {
    if (!this.error) this.error = syntaxError(this.json ?? undefined, `Parsing ${this.name()} failed: ${msg}`);
  }

  /** Returns member `name` if present with the right kind; records an error otherwise. */
  member(name: string, kind: MemberKind, optional = false): unknown {
    if (!this.json) return undefined;
    const v = this.json[name];
    if (v === undefined) {
      if (!optional) this.raise(`Required '${name}' member is missing.`);
      return undefined;
    }
    if (!this.used.includes(name)) this.used.push(name);
    if (!hasKind(v, kind)) {
      this.raise(`Type mismatch for member '${name}'.`);
      return undefined;
    }
    return v;
  }

  /** Reads the "table" member and resolves it in `tables`. */
  table(tables: Map<string, TableSchema>): TableSchema | undefined {
    const name = this.member('table', 'id') as string | undefined;
    if (name === undefined) return undefined;
    const t = tables.get(name);
    if (!t) this.raise(`No table named ${name}.`);
    return t;
  }

  /** Throws the first recorded error, if any. */
  check(): void {
    if (this.error) throw this.error;
  }

  /** The error to report at the end: the first parse error, else an unexpected member. */
  finish(): OvsdbError | undefined {
    if (!this.error && this.json) {
      for (const k of Object.keys(this.json)) {
        if (!this.used.includes(k)) {
          this.raise(`Member '${k}' is present but not allowed here.`);
          break;
        }
      }
    }
    return this.error;
  }
}

/** Parses a <row> object of `table` (ovsdb-server's parse_row): column → datum. */
export function parseRow(table: TableSchema, json: unknown, ctx?: NamedUuidResolver): Map<ColumnSchema, Datum> {
  const out = new Map<ColumnSchema, Datum>();
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    const column = table.column(name);
    if (!column) throw syntaxError(json, `No column ${name} in table ${table.name}.`, 'unknown column');
    out.set(column, datumFromJSON(column.type, value, ctx));
  }
  return out;
}

/** Parses a "columns" array (ovsdb_column_set_from_json); undefined stays undefined. */
export function parseColumns(table: TableSchema, json: unknown): string[] | undefined {
  if (json === undefined) return undefined;
  const arr = json as unknown[];
  const seen = new Set<string>();
  for (const c of arr) {
    if (typeof c !== 'string') throw syntaxError(json, 'array of distinct column names expected');
    if (!table.column(c)) throw syntaxError(json, `${c} is not a valid column name`);
    if (seen.has(c)) throw syntaxError(json, 'array of distinct column names expected');
    seen.add(c);
  }
  return [...seen];
}
