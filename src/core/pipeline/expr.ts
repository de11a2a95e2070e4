/**
 * Match expressions as values (ovn-sb(5) Logical_Flow "match"). Two layers share one type: what the parser
 * produces (`cmp` with relational operators, sets and named fields, `sym` for a bare 1-bit symbol) and what
 * annotation lowers it to (`test`: field & mask == value on a whole field, `strtest`: a string field equal to a
 * port name). Both print canonically so each compilation stage can be shown and compared.
 */
import type {IntFormat} from './lexer.js'

/** An integer or string constant as written. */
export type Constant =
  | {kind: 'int'; value: bigint; mask?: bigint; format: IntFormat}
  | {kind: 'string'; text: string}

/** An element of a set: a constant, an address set `$name` or a port group `@name`. */
export type SetElem = Constant | {kind: 'addrset'; name: string} | {kind: 'portgroup'; name: string}

/** Relational operators (ovn-sb(5) "Relational operators"). */
export type RelOp = '==' | '!=' | '<' | '<=' | '>' | '>='

/** A symbol, optionally narrowed to bits `[lo..hi]`. */
export interface FieldRef {
  name: string
  lo?: number
  hi?: number
}

/** A match expression at any stage. */
export type Expr =
  | {type: 'bool'; value: boolean}
  | {type: 'cmp'; field: FieldRef; op: RelOp; values: SetElem[]; isSet: boolean}
  | {type: 'sym'; field: FieldRef}
  | {type: 'chassis'; port: string}
  | {type: 'not'; arg: Expr}
  | {type: 'and' | 'or'; args: Expr[]}
  | {type: 'test'; field: string; value: bigint; mask: bigint; width: number; format: IntFormat}
  | {type: 'strtest'; field: string; port: string}

/** Logical true/false. */
export const TRUE: Expr = {type: 'bool', value: true}
/** Logical false. */
export const FALSE: Expr = {type: 'bool', value: false}

/** AND of `args`, flattened and with constants folded. */
export function and(args: Expr[]): Expr {
  return combine('and', args)
}

/** OR of `args`, flattened and with constants folded. */
export function or(args: Expr[]): Expr {
  return combine('or', args)
}

function combine(type: 'and' | 'or', args: Expr[]): Expr {
  const unit = type === 'and'
  const out: Expr[] = []
  for (const a of args) {
    if (a.type === 'bool') {
      if (a.value !== unit) return {type: 'bool', value: !unit}
    } else if (a.type === type) {
      out.push(...a.args)
    } else {
      out.push(a)
    }
  }
  if (out.length === 0) return {type: 'bool', value: unit}
  return out.length === 1 ? out[0] : {type, args: out}
}

/** Formats an integer in the notation it was written in (or the field's). */
export function formatInt(value: bigint, format: IntFormat, width = 0): string {
  switch (format) {
    case 'ipv4':
      return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.')
    case 'mac':
      return [40n, 32n, 24n, 16n, 8n, 0n].map((s) => ((value >> s) & 0xffn).toString(16).padStart(2, '0')).join(':')
    case 'ipv6':
      return formatIpv6(value)
    case 'hex':
      return '0x' + value.toString(16)
    default:
      return width > 64 || value >= 1n << 64n ? '0x' + value.toString(16) : value.toString()
  }
}

/** RFC 5952 text form: lowercase, longest run of zero groups (2 or more) compressed to `::`. */
export function formatIpv6(value: bigint): string {
  const groups = Array.from({length: 8}, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn))
  let best = -1
  let bestLen = 1
  for (let i = 0; i < 8; ) {
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen) [best, bestLen] = [i, j - i]
    i = j === i ? i + 1 : j
  }
  const hex = groups.map((g) => g.toString(16))
  if (best < 0) return hex.join(':')
  return hex.slice(0, best).join(':') + '::' + hex.slice(best + bestLen).join(':')
}

/** Prefix length of a CIDR mask of `width` bits, or undefined when the mask is not a prefix. */
export function prefixLength(mask: bigint, width: number): number | undefined {
  const inverted = ((1n << BigInt(width)) - 1n) ^ mask
  if ((inverted & (inverted + 1n)) !== 0n) return undefined
  return width - inverted.toString(2).replace(/^0$/, '').length
}

/** Formats a masked constant: CIDR for addresses when possible, `value/mask` otherwise. */
export function formatMasked(value: bigint, mask: bigint, format: IntFormat, width: number): string {
  const v = formatInt(value, format, width)
  if (format === 'ipv4' || format === 'ipv6') {
    const len = prefixLength(mask, format === 'ipv4' ? 32 : 128)
    if (len !== undefined) return `${v}/${len}`
  }
  return `${v}/${formatInt(mask, format === 'decimal' ? 'hex' : format, width)}`
}

function formatConstant(c: SetElem): string {
  switch (c.kind) {
    case 'int':
      return c.mask === undefined ? formatInt(c.value, c.format) : formatMasked(c.value, c.mask, c.format, 128)
    case 'string':
      return JSON.stringify(c.text)
    case 'addrset':
      return `$${c.name}`
    case 'portgroup':
      return `@${c.name}`
  }
}

/** Formats a field reference with its bit range. */
export function formatFieldRef(f: FieldRef): string {
  if (f.lo === undefined) return f.name
  return f.lo === f.hi ? `${f.name}[${f.lo}]` : `${f.name}[${f.lo}..${f.hi}]`
}

function formatTest(e: Extract<Expr, {type: 'test'}>): string {
  const full = (1n << BigInt(e.width)) - 1n
  if (e.mask === full) return `${e.field} == ${formatInt(e.value, e.format, e.width)}`
  const lo = e.mask === 0n ? 0 : e.mask.toString(2).length - e.mask.toString(2).lastIndexOf('1') - 1
  const hi = e.mask.toString(2).length - 1
  const contiguous = e.mask === ((1n << BigInt(hi + 1)) - 1n) - ((1n << BigInt(lo)) - 1n)
  if (contiguous && e.format !== 'ipv4' && e.format !== 'ipv6' && e.format !== 'mac') {
    const ref = formatFieldRef({name: e.field, lo, hi})
    return `${ref} == ${formatInt(e.value >> BigInt(lo), hi - lo < 8 ? 'decimal' : 'hex')}`
  }
  return `${e.field} == ${formatMasked(e.value, e.mask, e.format, e.width)}`
}

/** Canonical text of an expression: minimal parentheses, `&&` binds like `||` so mixed levels are bracketed. */
export function formatExpr(e: Expr, parent?: 'and' | 'or' | 'not'): string {
  switch (e.type) {
    case 'bool':
      return e.value ? '1' : '0'
    case 'cmp': {
      const values = e.isSet ? `{${e.values.map(formatConstant).join(', ')}}` : formatConstant(e.values[0])
      const text = `${formatFieldRef(e.field)} ${e.op} ${values}`
      return parent === 'not' ? `(${text})` : text
    }
    case 'sym':
      return formatFieldRef(e.field)
    case 'chassis':
      return `is_chassis_resident(${JSON.stringify(e.port)})`
    case 'not':
      return '!' + formatExpr(e.arg, 'not')
    case 'and':
    case 'or': {
      const text = e.args.map((a) => formatExpr(a, e.type)).join(e.type === 'and' ? ' && ' : ' || ')
      return parent ? `(${text})` : text
    }
    case 'test': {
      const text = formatTest(e)
      return parent === 'not' ? `(${text})` : text
    }
    case 'strtest': {
      const text = `${e.field} == ${JSON.stringify(e.port)}`
      return parent === 'not' ? `(${text})` : text
    }
  }
}
