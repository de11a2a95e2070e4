/**
 * Mutations (RFC 7047 §5.1 <mutation>): arithmetic on integer/real scalars and sets (element-wise),
 * insert/delete on sets and maps. Error strings and details follow ovsdb-server 3.1.
 */
import { type Atom, type NamedUuidResolver, checkAtomConstraints } from './atom.js';
import {
  type Datum, checkDatumAtoms, checkDatumCount, datumFromJSON, datumSubtractKeys, datumSubtractPairs, datumUnion, makeDatum,
} from './datum.js';
import { OvsdbError, syntaxError } from './errors.js';
import type { ColumnSchema, TableSchema } from './schema.js';
import { type ColumnType, isMap, isScalar, isSet, plainBase, typeToEnglish } from './types.js';

/** The mutators of RFC 7047 §5.1. */
export type Mutator = '+=' | '-=' | '*=' | '/=' | '%=' | 'insert' | 'delete';

const MUTATORS: readonly string[] = ['+=', '-=', '*=', '/=', '%=', 'insert', 'delete'];

/** A compiled mutation. `byKeys` marks a map "delete" given a set of keys. */
export interface Mutation {
  readonly column: ColumnSchema;
  readonly mutator: Mutator;
  readonly arg: Datum;
  readonly byKeys: boolean;
}

function typeMismatch(json: unknown, m: string, column: ColumnSchema): OvsdbError {
  return syntaxError(json, `Type mismatch: "${m}" operator may not be applied to column ` +
    `${column.name} of type ${typeToEnglish(column.type)}.`);
}

/** True if `json` has the outer form of a <map> (RFC 7047 §5.1), ["map", [...]]. */
function isMapJSON(json: unknown): boolean {
  return Array.isArray(json) && json.length === 2 && json[0] === 'map' && Array.isArray(json[1]);
}

/** Compiles one mutation JSON `[column, mutator, value]` of `table`. */
export function compileMutation(table: TableSchema, json: unknown, ctx?: NamedUuidResolver): Mutation {
  if (!Array.isArray(json) || json.length !== 3 || typeof json[0] !== 'string' || typeof json[1] !== 'string') {
    throw syntaxError(json, 'Parse error in mutation.');
  }
  const [name, mName, argJson] = json as [string, string, unknown];
  const column = table.column(name);
  if (!column) throw syntaxError(json, `No column ${name} in table ${table.name}.`, 'unknown column');
  if (!column.mutable) {
    throw syntaxError(json, `Cannot mutate immutable column ${name} in table ${table.name}.`, 'constraint violation');
  }
  if (!MUTATORS.includes(mName)) throw new OvsdbError('unknown mutator', `No mutator named ${mName}.`);
  const mutator = mName as Mutator;
  const t = column.type;
  if (mutator === 'insert' || mutator === 'delete') {
    if (!isSet(t) && !isMap(t)) throw typeMismatch(json, mutator, column);
    const relaxed: ColumnType = mutator === 'delete' ? { ...t, min: 0, max: Infinity } : { ...t, min: 0 };
    // A map "delete" by a set of keys (the usual form) fails the pair parse at once: skip the throw.
    if (mutator === 'delete' && isMap(t) && !isMapJSON(argJson)) {
      return { column, mutator, arg: datumFromJSON({ key: t.key, min: 0, max: Infinity }, argJson, ctx), byKeys: true };
    }
    try {
      return { column, mutator, arg: datumFromJSON(relaxed, argJson, ctx), byKeys: false };
    } catch (e) {
      if (!(mutator === 'delete' && isMap(t))) throw e;
      const keysOnly: ColumnType = { key: t.key, min: 0, max: Infinity };
      return { column, mutator, arg: datumFromJSON(keysOnly, argJson, ctx), byKeys: true };
    }
  }
  const k = t.key.type;
  if (isMap(t) || (k !== 'integer' && k !== 'real') || (mutator === '%=' && k !== 'integer')) {
    throw typeMismatch(json, mutator, column);
  }
  // The operand is a plain scalar: column constraints apply to the result, not the operand.
  const arg = datumFromJSON({ key: plainBase(k), min: 1, max: 1 }, argJson, ctx);
  return { column, mutator, arg, byKeys: false };
}

/** Compiles a <mutations> array of `table`. */
export function compileMutations(table: TableSchema, json: unknown, ctx?: NamedUuidResolver): Mutation[] {
  if (!Array.isArray(json)) throw syntaxError(json, 'Parse error in mutation.');
  return json.map((m) => compileMutation(table, m, ctx));
}

function arith(m: Mutator, real: boolean, a: number, b: number): number {
  if ((m === '/=' || m === '%=') && b === 0) throw new OvsdbError('domain error', 'Division by zero.');
  let r: number;
  switch (m) {
    case '+=': r = a + b; break;
    case '-=': r = a - b; break;
    case '*=': r = a * b; break;
    case '/=': r = real ? a / b : Math.trunc(a / b); break;
    default: r = a % b; break;
  }
  // OVS checks int64 overflow; ovnctl integers are limited to the safe range (see atom.ts).
  if (real ? !Number.isFinite(r) : !Number.isSafeInteger(r)) {
    throw new OvsdbError('range error', `Result of "${m}" operation is out of range.`);
  }
  return r === 0 ? 0 : r;
}

/** Applies one mutation to a column value, checking the result (RFC 7047 §5.1, ovsdb-server(7)). */
export function applyMutation(mu: Mutation, value: Datum): Datum {
  const t = mu.column.type;
  let out: Datum;
  switch (mu.mutator) {
    // The stored elements already meet the column's constraints (every write is checked), so an insert checks
    // the elements it adds and a delete only the count, as ovsdb-server does (ovsdb_mutation_check_count):
    // checking the whole set made a mutation of a large set cost its size.
    case 'insert':
      out = datumUnion(value, mu.arg);
      checkDatumCount(t, out);
      checkDatumAtoms(t, mu.arg);
      return out;
    case 'delete':
      out = !isMap(t) || mu.byKeys ? datumSubtractKeys(value, mu.arg) : datumSubtractPairs(value, mu.arg);
      checkDatumCount(t, out);
      return out;
    default: {
      const b = mu.arg.keys[0] as number;
      const real = t.key.type === 'real';
      const keys: Atom[] = value.keys.map((a) => arith(mu.mutator, real, a as number, b));
      if (isScalar(t)) {
        for (const k of keys) checkAtomConstraints(t.key, k);
        return makeDatum(keys);
      }
      try {
        out = makeDatum(keys);
      } catch {
        throw new OvsdbError('constraint violation', `Result of "${mu.mutator}" operation contains duplicates.`);
      }
      for (const k of out.keys) checkAtomConstraints(t.key, k);
      return out;
    }
  }
}
