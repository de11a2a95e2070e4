/**
 * Base types and column types of RFC 7047 §3.2 (<base-type>, <type>), their schema JSON form,
 * and the English names ovsdb-server uses in error details (ovsdb_type_to_english).
 */
import { type Atom, type AtomicType, atomFromJSONUnchecked, compareAtoms } from './atom.js';
import { OvsdbError } from './errors.js';

/** An atomic type with its optional constraints (RFC 7047 §3.2 <base-type>). */
export interface BaseType {
  readonly type: AtomicType;
  /** Allowed values, sorted in canonical order. */
  readonly enum?: readonly Atom[];
  readonly minInteger?: number;
  readonly maxInteger?: number;
  readonly minReal?: number;
  readonly maxReal?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly refTable?: string;
  /** Only meaningful with refTable; "strong" when absent. */
  readonly refType?: 'strong' | 'weak';
}

/** A column type: key, optional value (maps), and set size bounds (max Infinity = "unlimited"). */
export interface ColumnType {
  readonly key: BaseType;
  readonly value?: BaseType;
  readonly min: number;
  readonly max: number;
}

const ATOMIC_TYPES: readonly string[] = ['integer', 'real', 'boolean', 'string', 'uuid'];

/** Error for an invalid schema fragment at JSON path `path`. */
export function schemaError(path: string, msg: string): OvsdbError {
  return new OvsdbError('syntax error', `${path}: ${msg}`);
}

/** True for exactly-one-value columns without a value type. */
export function isScalar(t: ColumnType): boolean {
  return t.min === 1 && t.max === 1 && !t.value;
}

/** True for 0..1 sets (an "optional" scalar). */
export function isOptionalScalar(t: ColumnType): boolean {
  return t.min === 0 && t.max === 1 && !t.value;
}

/** True for set columns (any key-only type that is not a scalar). */
export function isSet(t: ColumnType): boolean {
  return !t.value && !isScalar(t);
}

/** True for map columns. */
export function isMap(t: ColumnType): boolean {
  return t.value !== undefined;
}

/** True if the base type refers to rows of another table (RFC 7047 §3.2 refTable). */
export function isRef(b: BaseType): boolean {
  return b.type === 'uuid' && b.refTable !== undefined;
}

/** True if the base type is a strong reference. */
export function isStrongRef(b: BaseType): boolean {
  return isRef(b) && b.refType !== 'weak';
}

/** True if the base type is a weak reference. */
export function isWeakRef(b: BaseType): boolean {
  return isRef(b) && b.refType === 'weak';
}

/** The base type without constraints (what the mutation and condition code compares with). */
export function plainBase(type: AtomicType): BaseType {
  return PLAIN[type];
}

const PLAIN: Record<AtomicType, BaseType> = {
  integer: { type: 'integer' }, real: { type: 'real' }, boolean: { type: 'boolean' },
  string: { type: 'string' }, uuid: { type: 'uuid' },
};

/** A scalar type of the given atomic type, e.g. for _uuid and _version. */
export function scalarType(type: AtomicType): ColumnType {
  return { key: PLAIN[type], min: 1, max: 1 };
}

/** The English name of a type, as ovsdb_type_to_english() writes it in error details. */
export function typeToEnglish(t: ColumnType): string {
  if (isScalar(t)) return t.key.type;
  let s = t.value ? 'map' : 'set';
  if (t.max === Infinity) s += t.min ? ` of ${t.min} or more` : ' of';
  else if (t.min) s += ` of ${t.min} to ${t.max}`;
  else s += ` of up to ${t.max}`;
  return t.value ? `${s} (${t.key.type}, ${t.value.type}) pairs` : `${s} ${t.key.type}s`;
}

function isObject(json: unknown): json is Record<string, unknown> {
  return typeof json === 'object' && json !== null && !Array.isArray(json);
}

function checkMembers(json: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(json)) {
    if (!allowed.includes(k)) throw schemaError(`${path}.${k}`, `member "${k}" is not allowed here`);
  }
}

function optNumber(json: Record<string, unknown>, name: string, path: string,
                   integer: boolean): number | undefined {
  const v = json[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || (integer && !Number.isInteger(v))) {
    throw schemaError(`${path}.${name}`, `expected ${integer ? 'integer' : 'number'}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Parses a <base-type> (RFC 7047 §3.2); `path` names it in error messages. */
export function baseTypeFromJSON(json: unknown, path: string): BaseType {
  if (typeof json === 'string') {
    if (!ATOMIC_TYPES.includes(json)) throw schemaError(path, `unknown atomic type "${json}"`);
    return PLAIN[json as AtomicType];
  }
  if (!isObject(json)) throw schemaError(path, 'expected a type name or an object');
  const type = json.type;
  if (typeof type !== 'string' || !ATOMIC_TYPES.includes(type)) {
    throw schemaError(`${path}.type`, `unknown atomic type ${JSON.stringify(type)}`);
  }
  const allowed = ['type', 'enum', ...CONSTRAINT_MEMBERS[type as AtomicType]];
  checkMembers(json, allowed, path);
  const base: { -readonly [K in keyof BaseType]: BaseType[K] } = { type: type as AtomicType };
  if (json.enum !== undefined) base.enum = enumFromJSON(base.type, json.enum, `${path}.enum`);
  parseConstraints(base, json, path);
  return base;
}

const CONSTRAINT_MEMBERS: Record<AtomicType, readonly string[]> = {
  integer: ['minInteger', 'maxInteger'],
  real: ['minReal', 'maxReal'],
  boolean: [],
  string: ['minLength', 'maxLength'],
  uuid: ['refTable', 'refType'],
};

function parseConstraints(base: { -readonly [K in keyof BaseType]: BaseType[K] },
                          json: Record<string, unknown>, path: string): void {
  const pair = (lo: 'minInteger' | 'minReal' | 'minLength', hi: 'maxInteger' | 'maxReal' | 'maxLength',
                integer: boolean) => {
    const min = optNumber(json, lo, path, integer);
    const max = optNumber(json, hi, path, integer);
    if (min !== undefined) base[lo] = min;
    if (max !== undefined) base[hi] = max;
    if (min !== undefined && max !== undefined && min > max) {
      throw schemaError(path, `${lo} ${min} exceeds ${hi} ${max}`);
    }
    if (lo === 'minLength' && ((min ?? 0) < 0 || (max ?? 0) < 0)) {
      throw schemaError(path, 'string lengths must be nonnegative');
    }
  };
  if (base.type === 'integer') pair('minInteger', 'maxInteger', true);
  if (base.type === 'real') pair('minReal', 'maxReal', false);
  if (base.type === 'string') pair('minLength', 'maxLength', true);
  if (base.type === 'uuid') {
    if (json.refTable !== undefined) {
      if (typeof json.refTable !== 'string') throw schemaError(`${path}.refTable`, 'expected a table name');
      base.refTable = json.refTable;
    }
    if (json.refType !== undefined) {
      if (json.refType !== 'strong' && json.refType !== 'weak') {
        throw schemaError(`${path}.refType`, `refType must be "strong" or "weak" (not ${JSON.stringify(json.refType)})`);
      }
      if (json.refTable === undefined) throw schemaError(`${path}.refType`, 'refType requires refTable');
      base.refType = json.refType;
    }
  }
}

function enumFromJSON(type: AtomicType, json: unknown, path: string): Atom[] {
  let members: unknown[];
  if (Array.isArray(json) && json[0] === 'set') {
    if (json.length !== 2 || !Array.isArray(json[1])) throw schemaError(path, 'expected ["set", [...]]');
    members = json[1];
  } else {
    members = [json];
  }
  let atoms: Atom[];
  try {
    atoms = members.map((m) => atomFromJSONUnchecked(type, m));
  } catch (e) {
    throw schemaError(path, e instanceof OvsdbError ? e.details ?? e.error : String(e));
  }
  atoms.sort(compareAtoms);
  for (let i = 1; i < atoms.length; i++) {
    if (compareAtoms(atoms[i - 1]!, atoms[i]!) === 0) throw schemaError(path, 'set contains duplicate');
  }
  return atoms;
}

/** The schema JSON form of a base type: a bare name when unconstrained (as OVS writes it). */
export function baseTypeToJSON(b: BaseType): unknown {
  const out: Record<string, unknown> = { type: b.type };
  if (b.enum) {
    out.enum = b.enum.length === 1 ? atomJSON(b.type, b.enum[0]!) : ['set', b.enum.map((a) => atomJSON(b.type, a))];
  }
  for (const k of ['minInteger', 'maxInteger', 'minReal', 'maxReal', 'minLength', 'maxLength',
    'refTable', 'refType'] as const) {
    if (b[k] !== undefined) out[k] = b[k];
  }
  return Object.keys(out).length === 1 ? b.type : out;
}

function atomJSON(type: AtomicType, a: Atom): unknown {
  return type === 'uuid' ? ['uuid', a] : a;
}

/** Parses a column <type> (RFC 7047 §3.2); `path` names it in error messages. */
export function columnTypeFromJSON(json: unknown, path: string): ColumnType {
  if (typeof json === 'string') return { key: baseTypeFromJSON(json, path), min: 1, max: 1 };
  if (!isObject(json)) throw schemaError(path, 'expected a type name or an object');
  checkMembers(json, ['key', 'value', 'min', 'max'], path);
  if (json.key === undefined) throw schemaError(path, 'required member "key" is missing');
  const key = baseTypeFromJSON(json.key, `${path}.key`);
  const value = json.value === undefined ? undefined : baseTypeFromJSON(json.value, `${path}.value`);
  const min = json.min === undefined ? 1 : json.min;
  if (typeof min !== 'number' || !Number.isInteger(min) || min < 0 || min > 1) {
    throw schemaError(`${path}.min`, `min must be 0 or 1 (not ${JSON.stringify(min)})`);
  }
  const maxJ = json.max === undefined ? 1 : json.max;
  const max = maxJ === 'unlimited' ? Infinity : maxJ;
  if (typeof max !== 'number' || (max !== Infinity && !Number.isInteger(max)) || max < 1) {
    throw schemaError(`${path}.max`, `max must be a positive integer or "unlimited" (not ${JSON.stringify(maxJ)})`);
  }
  if (min > max) throw schemaError(path, `min ${min} exceeds max ${max}`);
  return value ? { key, value, min, max } : { key, min, max };
}

/** The schema JSON form of a column type (a bare name for unconstrained scalars). */
export function columnTypeToJSON(t: ColumnType): unknown {
  const key = baseTypeToJSON(t.key);
  if (isScalar(t) && typeof key === 'string') return key;
  const out: Record<string, unknown> = { key };
  if (t.value) out.value = baseTypeToJSON(t.value);
  if (t.min !== 1) out.min = t.min;
  if (t.max !== 1) out.max = t.max === Infinity ? 'unlimited' : t.max;
  return out;
}
