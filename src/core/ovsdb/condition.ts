/**
 * Conditions (RFC 7047 §5.1 <condition>) and the boolean clauses of ovsdb-server(7) monitor_cond.
 * Clauses are ANDed. Semantics follow OVS 3.1 (checked against ovsdb-server):
 *  - <, <=, >, >= apply to integer/real scalars and optional (0..1) scalars; an empty optional
 *    value never satisfies them;
 *  - ==, != compare whole values; includes/excludes are superset/disjoint tests (pairs for maps).
 */
import { type Atom, compareAtoms } from './atom.js';
import {
  type Datum, datumEquals, datumExcludes, datumFromJSON, datumIncludes, scalarDatum,
} from './datum.js';
import { OvsdbError, syntaxError } from './errors.js';
import type { NamedUuidResolver } from './atom.js';
import type { Row } from './row.js';
import type { ColumnSchema, TableSchema } from './schema.js';
import { type ColumnType, isOptionalScalar, isScalar, typeToEnglish } from './types.js';

/** The functions of RFC 7047 §5.1. */
export type ConditionFunction = '<' | '<=' | '==' | '!=' | '>=' | '>' | 'includes' | 'excludes';

const FUNCTIONS: readonly string[] = ['<', '<=', '==', '!=', '>=', '>', 'includes', 'excludes'];

/** A compiled clause: a column test, or a constant (monitor_cond `true`/`false`). */
export type Clause =
  | { readonly column: ColumnSchema; readonly fn: ConditionFunction; readonly arg: Datum }
  | { readonly constant: boolean };

/** A compiled condition: the conjunction of its clauses. */
export class Condition {
  /** The compiled clauses, exposed so that callers can index them. */
  readonly clauses: readonly Clause[];

  constructor(clauses: readonly Clause[]) {
    this.clauses = clauses;
  }

  /** True if every clause holds for `row`. */
  matches(row: Row): boolean {
    for (const c of this.clauses) if (!clauseMatches(c, row)) return false;
    return true;
  }

  /** The uuid a `["_uuid", "==", uuid]` clause pins the result to, if any (fast lookup). */
  pinnedUuid(): string | undefined {
    for (const c of this.clauses) {
      if ('column' in c && c.column.name === '_uuid' && c.fn === '==') return c.arg.keys[0] as string;
    }
    return undefined;
  }
}

function fieldOf(c: { column: ColumnSchema }, row: Row): Datum | Atom {
  const n = c.column.name;
  if (n === '_uuid') return row.uuid;
  if (n === '_version') return row.version;
  return row.columns[n]!;
}

/** Evaluates one clause against a row. */
export function clauseMatches(c: Clause, row: Row): boolean {
  if ('constant' in c) return c.constant;
  const f = fieldOf(c, row);
  const field: Datum = typeof f === 'object' ? f : scalarDatum(f);
  switch (c.fn) {
    case '==': return datumEquals(field, c.arg);
    case '!=': return !datumEquals(field, c.arg);
    case 'includes': return datumIncludes(field, c.arg);
    case 'excludes': return datumExcludes(field, c.arg);
    default: {
      if (field.keys.length === 0) return false;
      const cmp = compareAtoms(field.keys[0]!, c.arg.keys[0]!);
      return c.fn === '<' ? cmp < 0 : c.fn === '<=' ? cmp <= 0 : c.fn === '>' ? cmp > 0 : cmp >= 0;
    }
  }
}

/** The type a clause argument is parsed with (ovsdb_clause_from_json relaxes it per function). */
function argType(t: ColumnType, fn: ConditionFunction): ColumnType {
  switch (fn) {
    case '<': case '<=': case '>': case '>=':
      return isOptionalScalar(t) ? { key: t.key, min: 1, max: 1 } : t;
    case 'includes':
      return isScalar(t) ? t : { ...t, min: 0 };
    case 'excludes':
      return isScalar(t) ? t : { ...t, min: 0, max: Infinity };
    default:
      return t;
  }
}

/** Compiles one clause JSON of `table`. */
export function compileClause(table: TableSchema, json: unknown, ctx?: NamedUuidResolver): Clause {
  if (json === true || json === false) return { constant: json };
  if (!Array.isArray(json) || json.length !== 3 || typeof json[0] !== 'string' || typeof json[1] !== 'string') {
    throw syntaxError(json, 'Parse error in condition.');
  }
  const [name, fnName, argJson] = json as [string, string, unknown];
  const column = table.column(name);
  if (!column) throw syntaxError(json, `No column ${name} in table ${table.name}.`, 'unknown column');
  if (!FUNCTIONS.includes(fnName)) throw new OvsdbError('unknown function', `No function named ${fnName}.`);
  const fn = fnName as ConditionFunction;
  const t = column.type;
  if ((fn === '<' || fn === '<=' || fn === '>' || fn === '>=') &&
      (!(isScalar(t) || isOptionalScalar(t)) || (t.key.type !== 'integer' && t.key.type !== 'real'))) {
    throw syntaxError(json, `Type mismatch: "${fn}" operator may not be applied to column ${name} of type ${typeToEnglish(t)}.`);
  }
  return { column, fn, arg: datumFromJSON(argType(t, fn), argJson, ctx) };
}

/** Compiles a <condition> array (RFC 7047 §5.1) of `table`. */
export function compileCondition(table: TableSchema, json: unknown, ctx?: NamedUuidResolver): Condition {
  if (!Array.isArray(json)) throw syntaxError(json, 'Parse error in condition.');
  return new Condition(json.map((c) => compileClause(table, c, ctx)));
}
