/**
 * Atoms: the scalar values of RFC 7047 §5.1 (integer, real, boolean, string, uuid), their JSON
 * form, canonical order, constraint checks, and the text form ovsdb-server uses in error details.
 */
import { compareUtf8, constraintViolation, syntaxError } from './errors.js';
import type { BaseType } from './types.js';

/** An atom: integer and real are numbers, uuids canonical lowercase strings. */
export type Atom = number | boolean | string;

/** The five atomic types of RFC 7047 §3.2. */
export type AtomicType = 'integer' | 'real' | 'boolean' | 'string' | 'uuid';

/** Resolves `["named-uuid", name]` references while parsing a transaction (RFC 7047 §5.1). */
export interface NamedUuidResolver {
  /** Returns the uuid bound to `name` (binding a fresh one for forward references). */
  resolve(name: string): string;
}

/** The all-zeros uuid, the default value of uuid columns (ovsdb(7)). */
export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True if `s` is a uuid in the 8-4-4-4-12 hex form (any case), as uuid_from_string accepts. */
export function isUuid(s: unknown): s is string {
  return typeof s === 'string' && s.length === 36 && UUID_RE.test(s);
}

/** Largest magnitude ovnctl stores exactly: OVSDB integers are 64-bit, JS numbers hold 53 bits. */
export const INTEGER_MAGNITUDE_MAX = Number.MAX_SAFE_INTEGER;

/** Parses one atom of atomic type `type` (no constraint checks), like ovsdb_atom_from_json__. */
export function atomFromJSONUnchecked(type: AtomicType, json: unknown, ctx?: NamedUuidResolver): Atom {
  switch (type) {
    case 'integer':
      if (typeof json === 'number' && Number.isInteger(json)) {
        if (!Number.isSafeInteger(json)) {
          throw syntaxError(json, `integer ${json} is outside the range ovnctl supports ` +
            `(-${INTEGER_MAGNITUDE_MAX} to ${INTEGER_MAGNITUDE_MAX})`);
        }
        return json === 0 ? 0 : json; // fold -0
      }
      break;
    case 'real':
      if (typeof json === 'number' && Number.isFinite(json)) return json === 0 ? 0 : json;
      break;
    case 'boolean':
      if (typeof json === 'boolean') return json;
      break;
    case 'string':
      if (typeof json === 'string') return json;
      break;
    case 'uuid':
      return uuidFromJSON(json, ctx);
  }
  throw syntaxError(json, `expected ${type}`);
}

function uuidFromJSON(json: unknown, ctx?: NamedUuidResolver): string {
  if (Array.isArray(json) && json.length === 2 && typeof json[1] === 'string') {
    if (json[0] === 'uuid') {
      if (!isUuid(json[1])) throw syntaxError(json, `"${json[1]}" is not a valid UUID`);
      return json[1].toLowerCase();
    }
    if (json[0] === 'named-uuid' && ctx) return ctx.resolve(json[1]);
  }
  throw syntaxError(json, 'expected ["uuid", <string>]');
}

/** Parses an atom of `base` and checks its constraints (ovsdb_atom_from_json). */
export function atomFromJSON(base: BaseType, json: unknown, ctx?: NamedUuidResolver): Atom {
  const atom = atomFromJSONUnchecked(base.type, json, ctx);
  checkAtomConstraints(base, atom);
  return atom;
}

/** The JSON form of an atom (RFC 7047 §5.1): uuids as ["uuid", "..."]. */
export function atomToJSON(type: AtomicType, atom: Atom): unknown {
  return type === 'uuid' ? ['uuid', atom] : atom;
}

/** Canonical OVSDB order: numbers numerically, false < true, strings by UTF-8 bytes. */
export function compareAtoms(a: Atom, b: Atom): number {
  if (typeof a === 'string') return compareUtf8(a, b as string);
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** Formats a real like printf("%.15g") (OVS prints reals with DBL_DIG digits). */
export function formatReal(x: number): string {
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  const e = x.toExponential(14);
  const [mant, expStr] = e.split('e');
  const exp = Number(expStr);
  if (exp < -4 || exp >= 15) {
    const m = stripZeros(mant!);
    const sign = exp < 0 ? '-' : '+';
    return `${m}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return stripZeros(x.toFixed(14 - exp));
}

function stripZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** True if OVS would quote `s` when printing it (string_needs_quotes in ovsdb-data.c). */
function stringNeedsQuotes(s: string): boolean {
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(s)) return true;
  return s === 'true' || s === 'false' || isUuid(s);
}

/** The text form of an atom used in ovsdb-server error details (ovsdb_atom_to_string). */
export function atomToString(type: AtomicType, atom: Atom): string {
  switch (type) {
    case 'integer': return String(atom);
    case 'real': return formatReal(atom as number);
    case 'boolean': return atom ? 'true' : 'false';
    case 'uuid': return atom as string;
    case 'string': return stringNeedsQuotes(atom as string) ? JSON.stringify(atom) : (atom as string);
  }
}

/** Number of Unicode characters of `s` (OVS counts UTF-8 characters for min/maxLength). */
function charLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}

/** Checks `atom` against the enum, range and length constraints of `base` (RFC 7047 §3.2). */
export function checkAtomConstraints(base: BaseType, atom: Atom): void {
  if (base.enum && !base.enum.some((e) => e === atom)) {
    const allowed = base.enum.map((e) => atomToString(base.type, e)).join(', ');
    throw constraintViolation(`${atomToString(base.type, atom)} is not one of the allowed values ([${allowed}])`);
  }
  switch (base.type) {
    case 'integer':
      return checkRange(atom as number, base.minInteger, base.maxInteger, String);
    case 'real':
      return checkRange(atom as number, base.minReal, base.maxReal, formatReal);
    case 'string':
      return checkLength(atom as string, base.minLength, base.maxLength);
    default:
      return;
  }
}

function checkRange(x: number, min: number | undefined, max: number | undefined,
                    fmt: (n: number) => string): void {
  if ((min === undefined || x >= min) && (max === undefined || x <= max)) return;
  const s = fmt(x);
  if (min !== undefined && max !== undefined) {
    throw constraintViolation(`${s} is not in the valid range ${fmt(min)} to ${fmt(max)} (inclusive)`);
  }
  if (min !== undefined) throw constraintViolation(`${s} is less than minimum allowed value ${fmt(min)}`);
  throw constraintViolation(`${s} is greater than maximum allowed value ${fmt(max!)}`);
}

function checkLength(s: string, min: number | undefined, max: number | undefined): void {
  if (min === undefined && max === undefined) return;
  const n = charLength(s);
  if (min !== undefined && n < min) {
    throw constraintViolation(`"${s}" length ${n} is less than minimum allowed length ${min}`);
  }
  if (max !== undefined && n > max) {
    throw constraintViolation(`"${s}" length ${n} is greater than maximum allowed length ${max}`);
  }
}

/** Asserts a broken invariant (a programming error, not an expected failure). */
export function assert(cond: unknown, what: string): asserts cond {
  if (!cond) throw new Error(`ovsdb invariant broken: ${what}`);
}

