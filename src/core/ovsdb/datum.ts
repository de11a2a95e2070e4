/**
 * Datums: the value of a column (RFC 7047 §5.1 <value>): a set of atoms or a map of atom pairs,
 * kept sorted by key in canonical order without duplicate keys. Datums are frozen values.
 */
import {
  type Atom, type NamedUuidResolver, ZERO_UUID, atomFromJSON, atomToJSON, atomToString,
  checkAtomConstraints, compareAtoms,
} from './atom.js';
import { OvsdbError, constraintViolation, syntaxError } from './errors.js';
import { type BaseType, type ColumnType, isMap, isScalar, typeToEnglish } from './types.js';

/** A column value: sorted keys, and values iff the column is a map. Immutable. */
export interface Datum {
  readonly keys: readonly Atom[];
  readonly values?: readonly Atom[];
}

/** The shared empty set. */
export const EMPTY_SET: Datum = Object.freeze({ keys: Object.freeze([]) });
/** The shared empty map. */
export const EMPTY_MAP: Datum = Object.freeze({ keys: Object.freeze([]), values: Object.freeze([]) });

const DEFAULT_ATOM = { integer: 0, real: 0, boolean: false, string: '', uuid: ZERO_UUID } as const;
const defaultCache = new Map<string, Datum>();

/** The default value of a column of `type` (ovsdb(7): empty, or the atomic default if min is 1). */
export function defaultDatum(type: ColumnType): Datum {
  if (type.min === 0) return type.value ? EMPTY_MAP : EMPTY_SET;
  const key = type.value ? `${type.key.type}:${type.value.type}` : type.key.type;
  let d = defaultCache.get(key);
  if (!d) {
    d = type.value
      ? freezeDatum([DEFAULT_ATOM[type.key.type]], [DEFAULT_ATOM[type.value.type]])
      : freezeDatum([DEFAULT_ATOM[type.key.type]]);
    defaultCache.set(key, d);
  }
  return d;
}

/** Wraps already sorted, duplicate-free arrays as a frozen datum (no checks). */
export function freezeDatum(keys: Atom[], values?: Atom[]): Datum {
  if (keys.length === 0) return values ? EMPTY_MAP : EMPTY_SET;
  if (!values && keys.length === 1) {
    const shared = sharedScalar(keys[0]!);
    if (shared) return shared;
  }
  Object.freeze(keys);
  return values ? Object.freeze({ keys, values: Object.freeze(values) }) : Object.freeze({ keys });
}

/**
 * Datums are immutable values, so one frozen datum can stand for every equal one-atom datum. Rows
 * share those of booleans and of the first integers seen (priorities, tunnel keys, table ids):
 * some 90 bytes per column value. Integers are shared up to a bound, so that a database of unique
 * numbers costs a fixed amount at most.
 */
const SHARED_INTEGERS_MAX = 16384;
const sharedIntegers = new Map<number, Datum>();
const TRUE_DATUM: Datum = Object.freeze({ keys: Object.freeze([true]) });
const FALSE_DATUM: Datum = Object.freeze({ keys: Object.freeze([false]) });

function sharedScalar(atom: Atom): Datum | undefined {
  if (typeof atom === 'boolean') return atom ? TRUE_DATUM : FALSE_DATUM;
  if (typeof atom !== 'number' || !Number.isInteger(atom)) return undefined;
  let d = sharedIntegers.get(atom);
  if (!d && sharedIntegers.size < SHARED_INTEGERS_MAX) {
    d = Object.freeze({ keys: Object.freeze([atom]) });
    sharedIntegers.set(atom, d);
  }
  return d;
}

/** One shared datum per value of an enumerated string column (bounded by the schema). */
const sharedEnumStrings = new WeakMap<BaseType, Map<Atom, Datum>>();

function enumScalar(base: BaseType, atom: Atom): Datum {
  let m = sharedEnumStrings.get(base);
  if (!m) sharedEnumStrings.set(base, (m = new Map()));
  let d = m.get(atom);
  if (!d) m.set(atom, (d = Object.freeze({ keys: Object.freeze([atom]) })));
  return d;
}

/**
 * The most recently parsed single references, shared: rows of a table often point at the same few
 * rows (every Logical_Flow, Port_Binding and MAC_Binding at its datapath), and sharing saves the
 * datum and its 36-character uuid string. Least recently added entries go first beyond the bound.
 */
const SHARED_REFS_MAX = 4096;
const sharedRefs = new Map<Atom, Datum>();

function refScalar(atom: Atom): Datum {
  let d = sharedRefs.get(atom);
  if (!d) {
    if (sharedRefs.size >= SHARED_REFS_MAX) sharedRefs.delete(sharedRefs.keys().next().value!);
    sharedRefs.set(atom, (d = Object.freeze({ keys: Object.freeze([atom]) })));
  }
  return d;
}

/** A scalar (one-atom) datum. */
export function scalarDatum(atom: Atom): Datum {
  return freezeDatum([atom]);
}

/** Sorts keys (and values alongside) and rejects duplicate keys as ovsdb_datum_sort() does. */
export function makeDatum(keys: Atom[], values?: Atom[]): Datum {
  if (keys.length > 1) {
    const idx = keys.map((_, i) => i).sort((a, b) => compareAtoms(keys[a]!, keys[b]!));
    const k2 = idx.map((i) => keys[i]!);
    for (let i = 1; i < k2.length; i++) {
      if (compareAtoms(k2[i - 1]!, k2[i]!) === 0) {
        throw new OvsdbError('ovsdb error', values ? 'map contains duplicate key' : 'set contains duplicate');
      }
    }
    return freezeDatum(k2, values ? idx.map((i) => values[i]!) : undefined);
  }
  return freezeDatum(keys, values?.slice());
}

function unwrap(json: unknown, name: string): unknown[] {
  if (Array.isArray(json) && json.length === 2 && json[0] === name && Array.isArray(json[1])) return json[1];
  throw syntaxError(json, `expected ["${name}", <array>]`);
}

/** Parses a datum of `type` from JSON (RFC 7047 §5.1), checking sizes and atom constraints. */
export function datumFromJSON(type: ColumnType, json: unknown, ctx?: NamedUuidResolver): Datum {
  const map = isMap(type);
  if (map || (Array.isArray(json) && json.length > 0 && json[0] === 'set')) {
    const cls = map ? 'map' : 'set';
    const inner = unwrap(json, cls);
    const n = inner.length;
    if (n < type.min || n > type.max) {
      throw syntaxError(json, type.min === 1 && type.max === 1
        ? `${cls} must have exactly one member but ${n} are present`
        : `${cls} must have ${type.min} to ${type.max === Infinity ? 4294967295 : type.max} members but ${n} are present`);
    }
    // Arrays made by map() have exactly their length; grown by push() they keep spare capacity.
    if (!map) return makeDatum(inner.map((elem) => atomFromJSON(type.key, elem, ctx)));
    const values: Atom[] = [];
    const keys = inner.map((elem) => {
      if (!Array.isArray(elem) || elem.length !== 2) throw syntaxError(elem, 'expected 2-element array');
      const key = atomFromJSON(type.key, elem[0], ctx);
      values.push(atomFromJSON(type.value!, elem[1], ctx));
      return key;
    });
    return makeDatum(keys, values);
  }
  const atom = atomFromJSON(type.key, json, ctx);
  if (typeof atom !== 'string') return freezeDatum([atom]);
  if (type.key.enum) return enumScalar(type.key, atom);
  return type.key.refTable !== undefined ? refScalar(atom) : freezeDatum([atom]);
}

/** The JSON form of a datum as OVS writes it: maps always ["map",...], 1-element sets bare. */
export function datumToJSON(type: ColumnType, d: Datum): unknown {
  if (type.value) {
    const vt = type.value.type;
    return ['map', d.keys.map((k, i) => [atomToJSON(type.key.type, k), atomToJSON(vt, d.values![i]!)])];
  }
  if (d.keys.length === 1) return atomToJSON(type.key.type, d.keys[0]!);
  return ['set', d.keys.map((k) => atomToJSON(type.key.type, k))];
}

/** The text form OVS uses in error details (ovsdb_datum_to_string). */
export function datumToString(type: ColumnType, d: Datum): string {
  const map = isMap(type);
  const parts = d.keys.map((k, i) => atomToString(type.key.type, k) +
    (map ? `=${atomToString(type.value!.type, d.values![i]!)}` : ''));
  const s = parts.join(', ');
  if (type.max > 1 || d.keys.length === 0) return map ? `{${s}}` : `[${s}]`;
  return s;
}

/** Three-way comparison as ovsdb_datum_compare_3way: size first, then keys, then values. */
export function compareDatums(a: Datum, b: Datum): number {
  if (a === b) return 0;
  if (a.keys.length !== b.keys.length) return a.keys.length < b.keys.length ? -1 : 1;
  for (let i = 0; i < a.keys.length; i++) {
    const c = compareAtoms(a.keys[i]!, b.keys[i]!);
    if (c) return c;
  }
  if (a.values && b.values) {
    for (let i = 0; i < a.values.length; i++) {
      const c = compareAtoms(a.values[i]!, b.values[i]!);
      if (c) return c;
    }
  }
  return 0;
}

/** True if both datums hold the same atoms. */
export function datumEquals(a: Datum, b: Datum): boolean {
  return compareDatums(a, b) === 0;
}

/** Index of `key` in the sorted keys of `d`, or -1. */
export function findKey(d: Datum, key: Atom): number {
  let lo = 0;
  let hi = d.keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareAtoms(d.keys[mid]!, key);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Merges sorted entries, keeping those for which `keep(inA, inB)` holds (values from b win). */
function merge(a: Datum, b: Datum, keep: (ia: number, ib: number) => boolean): Datum {
  const keys: Atom[] = [];
  const values: Atom[] | undefined = a.values ? [] : undefined;
  let i = 0;
  let j = 0;
  while (i < a.keys.length || j < b.keys.length) {
    const c = i >= a.keys.length ? 1 : j >= b.keys.length ? -1 : compareAtoms(a.keys[i]!, b.keys[j]!);
    const ia = c <= 0 ? i : -1;
    const ib = c >= 0 ? j : -1;
    if (keep(ia, ib)) {
      keys.push(ib >= 0 ? b.keys[ib]! : a.keys[ia]!);
      if (values) values.push(ib >= 0 ? b.values![ib]! : a.values![ia]!);
    }
    if (c <= 0) i++;
    if (c >= 0) j++;
  }
  // slice(): arrays grown by push() keep spare capacity, and datums are kept for long.
  return freezeDatum(keys.slice(), values?.slice());
}

/** Union; for maps, existing keys keep their value (the "insert" mutator, RFC 7047 §5.1). */
export function datumUnion(a: Datum, b: Datum): Datum {
  return merge(b, a, () => true);
}

/** Removes keys of `b` from `a` (set "delete", or map "delete" by a set of keys). */
export function datumSubtractKeys(a: Datum, keys: Datum): Datum {
  const probe: Datum = a.values ? { keys: keys.keys, values: keys.keys } : keys;
  return merge(a, probe, (ia, ib) => ia >= 0 && ib < 0);
}

/** Removes the pairs of `b` from map `a` when key and value both match (map "delete" by pairs). */
export function datumSubtractPairs(a: Datum, b: Datum): Datum {
  const keys: Atom[] = [];
  const values: Atom[] = [];
  for (let i = 0; i < a.keys.length; i++) {
    const j = findKey(b, a.keys[i]!);
    if (j >= 0 && compareAtoms(b.values![j]!, a.values![i]!) === 0) continue;
    keys.push(a.keys[i]!);
    values.push(a.values![i]!);
  }
  return freezeDatum(keys.slice(), values.slice());
}

/** True if every key (and, for maps, pair) of `b` is in `a` (the "includes" function). */
export function datumIncludes(a: Datum, b: Datum): boolean {
  for (let i = 0; i < b.keys.length; i++) {
    const j = findKey(a, b.keys[i]!);
    if (j < 0) return false;
    if (a.values && compareAtoms(a.values[j]!, b.values![i]!) !== 0) return false;
  }
  return true;
}

/** True if no key (or, for maps, pair) of `b` is in `a` (the "excludes" function). */
export function datumExcludes(a: Datum, b: Datum): boolean {
  for (let i = 0; i < b.keys.length; i++) {
    const j = findKey(a, b.keys[i]!);
    if (j >= 0 && (!a.values || compareAtoms(a.values[j]!, b.values![i]!) === 0)) return false;
  }
  return true;
}

/**
 * The update2 "modify" diff of ovsdb-server(7) §4.1.14, also written in database files (ovsdb(5)): a column that
 * holds at most one element (a scalar, or an optional value or pair: ovsdb_type_is_composite() is false) carries
 * its new value, as ovsdb-server sends it (e.g. Port_Binding "up": [false] -> [true] is `true`, not the
 * two-element symmetric difference, which ovsdb-idl rejects); sets carry the symmetric difference, maps the
 * removed pairs (old value), added and changed pairs (new value).
 */
export function datumDiff(type: ColumnType, oldD: Datum, newD: Datum): Datum {
  if (type.max === 1) return newD;
  return symmetricDiff(type, oldD, newD);
}

/**
 * Applies a diff made by datumDiff (ovsdb-server(7) §4.1.14 "modify"). ovnctl before this rule sent and wrote
 * the symmetric difference for optional columns too: a diff of two elements, or one equal to the old value
 * (never sent for a column that did not change), can only be that one, and is applied as such.
 */
export function applyDatumDiff(type: ColumnType, oldD: Datum, diff: Datum): Datum {
  if (type.max !== 1) return symmetricDiff(type, oldD, diff);
  const olderForm = type.min === 0 && (diff.keys.length > 1 || (oldD.keys.length > 0 && datumEquals(oldD, diff)));
  return olderForm ? symmetricDiff(type, oldD, diff) : diff;
}

function symmetricDiff(type: ColumnType, a: Datum, b: Datum): Datum {
  if (!type.value) return merge(a, b, (ia, ib) => (ia >= 0) !== (ib >= 0));
  return merge(a, b, (ia, ib) => ia < 0 || ib < 0 ||
    compareAtoms(a.values![ia]!, b.values![ib]!) !== 0);
}

/** Checks size bounds and atom constraints of a whole datum (after a mutation). */
export function checkDatum(type: ColumnType, d: Datum): void {
  checkDatumCount(type, d);
  checkDatumAtoms(type, d);
}

/** Checks the size bounds of a datum. */
export function checkDatumCount(type: ColumnType, d: Datum): void {
  const n = d.keys.length;
  if (n < type.min || n > type.max) {
    throw constraintViolation(`Attempted to store ${n} elements in ${typeToEnglish(type)}.`);
  }
}

/** Checks the atom constraints of every key and value (ovsdb_datum_check_constraints). */
export function checkDatumAtoms(type: ColumnType, d: Datum): void {
  for (const k of d.keys) checkAtomConstraints(type.key, k);
  if (type.value && d.values) for (const v of d.values) checkAtomConstraints(type.value, v);
}
