/**
 * Converting OVSDB JSON values (RFC 7047 §5.1) to plain JSON for output: sets as arrays, maps as objects,
 * UUIDs as strings. Every output format then shows them the same way (tables as compact JSON, --bare as
 * ovsdb-client's bare data).
 */
import type {ColumnType} from '../ovsdb/index.js'

function isTagged(value: unknown, tag: string): value is [string, unknown] {
  return Array.isArray(value) && value.length === 2 && value[0] === tag
}

function plainAtom(atom: unknown): unknown {
  if (isTagged(atom, 'uuid') || isTagged(atom, 'named-uuid')) return atom[1]
  return atom
}

/** Plain JSON for an OVSDB JSON value: a set becomes an array, a map an object, a UUID its string. */
export function plainJson(value: unknown): unknown {
  if (isTagged(value, 'set')) return (value[1] as unknown[]).map(plainAtom)
  if (isTagged(value, 'map')) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of value[1] as [unknown, unknown][]) out[String(plainAtom(k))] = plainAtom(v)
    return out
  }
  return plainAtom(value)
}

/**
 * Plain JSON for a value of a column of `type`: as `plainJson`, except that a set column is always an array
 * (OVSDB writes a one-element set as the bare atom) and an optional scalar (0 or 1 value) is the value or null.
 */
export function plainValue(type: ColumnType | undefined, json: unknown): unknown {
  const value = plainJson(json)
  if (type === undefined || type.value !== undefined || (type.min === 1 && type.max === 1)) return value
  if (type.max === 1) return Array.isArray(value) ? (value.length > 0 ? value[0] : null) : value
  return Array.isArray(value) ? value : [value]
}
