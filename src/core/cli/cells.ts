/**
 * How one value becomes the text of one cell. Records are plain JSON-like objects; scalars print as
 * themselves, nested arrays and objects as compact JSON (unambiguous and parseable), except in `--bare` where
 * they lose their punctuation the way ovsdb-client(1) `--data=bare` prints sets and maps.
 */

/** One record as commands hand it to the renderer: column name → value. */
export type OutputRecord = Readonly<Record<string, unknown>>

/** JSON.stringify that also accepts bigint (as a number when exact, else as a string) and Date. */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(
    value === undefined ? null : value,
    (_key, v: unknown) => {
      if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()
      return v
    },
    indent,
  )
}

/** The text of a value in a table or CSV cell: '' for null/undefined, compact JSON for arrays and objects. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value)
  if (value instanceof Date) return value.toISOString()
  return toJson(value)
}

/**
 * The text of a value under `--bare` (ovsdb-client(1) `--data=bare`): strings unquoted, the items of an array
 * separated by spaces, an object as space-separated `key=value` pairs, nothing for null.
 */
export function bareText(value: unknown): string {
  if (Array.isArray(value)) return value.map((v) => cellText(v)).join(' ')
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.entries(value).map(([k, v]) => `${k}=${cellText(v)}`).join(' ')
  }
  return cellText(value)
}

const controlNames: Record<string, string> = {'\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\'}

/**
 * Escapes control characters (and backslash) so one record stays on one table line and a value cannot move the
 * cursor or change the terminal's colours: `a\nb` prints as `a\nb` with a visible backslash.
 */
export function escapeControls(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\\]/g, (c) => {
    return controlNames[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`
  })
}

/** Code points that take two terminal columns (East Asian Wide and Fullwidth, most emoji; UAX #11). */
const wideRanges: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f], [0x231a, 0x231b], [0x23e9, 0x23ec], [0x23f0, 0x23f0], [0x23f3, 0x23f3], [0x25fd, 0x25fe],
  [0x2614, 0x2615], [0x2648, 0x2653], [0x267f, 0x267f], [0x2693, 0x2693], [0x26a1, 0x26a1], [0x26aa, 0x26ab],
  [0x26bd, 0x26be], [0x26c4, 0x26c5], [0x26ce, 0x26ce], [0x26d4, 0x26d4], [0x26ea, 0x26ea], [0x26f2, 0x26f3],
  [0x26f5, 0x26f5], [0x26fa, 0x26fa], [0x26fd, 0x26fd], [0x2705, 0x2705], [0x270a, 0x270b], [0x2728, 0x2728],
  [0x274c, 0x274c], [0x274e, 0x274e], [0x2753, 0x2755], [0x2757, 0x2757], [0x2795, 0x2797], [0x27b0, 0x27b0],
  [0x27bf, 0x27bf], [0x2b1b, 0x2b1c], [0x2b50, 0x2b50], [0x2b55, 0x2b55], [0x2e80, 0x303e], [0x3041, 0x33ff],
  [0x3400, 0x4dbf], [0x4e00, 0x9fff], [0xa000, 0xa4cf], [0xac00, 0xd7a3], [0xf900, 0xfaff], [0xfe30, 0xfe4f],
  [0xff00, 0xff60], [0xffe0, 0xffe6], [0x1f004, 0x1f004], [0x1f0cf, 0x1f0cf], [0x1f18e, 0x1f18e],
  [0x1f191, 0x1f19a], [0x1f200, 0x1f2ff], [0x1f300, 0x1f64f], [0x1f680, 0x1f6ff], [0x1f7e0, 0x1f7eb],
  [0x1f90c, 0x1f9ff], [0x1fa70, 0x1faff], [0x20000, 0x3fffd],
]

/** Terminal columns taken by `text` (no escape codes in it): combining marks take 0, wide characters 2. */
export function displayWidth(text: string): number {
  let width = 0
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0
    if (/\p{M}|\u200d|[\ufe00-\ufe0f]/u.test(ch)) continue
    width += wideRanges.some(([lo, hi]) => cp >= lo && cp <= hi) ? 2 : 1
  }
  return width
}
