/**
 * The lexer shared by matches and actions (ovn-sb(5) Logical_Flow: "Actions share lexical syntax with the match
 * column"). Numbers may be decimal, hex, dotted-quad IPv4, IPv6 or Ethernet, each optionally masked with `/`;
 * strings are JSON strings; `$name` and `@name` name address sets and port groups; `//` and `/* ... *\/`
 * comments are skipped. Every token records its 1-based column for error messages.
 */
import {PipelineSyntaxError} from './errors.js'

/** How an integer constant was written; printing a value back uses the same notation. */
export type IntFormat = 'decimal' | 'hex' | 'ipv4' | 'ipv6' | 'mac'

/** One token of the language. Integers hold bigint values (fields reach 128 bits). */
export type Token =
  | {kind: 'id'; text: string; column: number}
  | {kind: 'int'; value: bigint; mask?: bigint; format: IntFormat; column: number}
  | {kind: 'string'; text: string; column: number}
  | {kind: 'addrset'; text: string; column: number}
  | {kind: 'portgroup'; text: string; column: number}
  | {kind: 'op'; text: Operator; column: number}
  | {kind: 'end'; column: number}

/** Punctuation and operators, longest first so that `<->` wins over `<`. */
const operators = [
  '<->', '==', '!=', '<=', '>=', '&&', '||', '->', '..', '--',
  '<', '>', '!', '(', ')', '{', '}', '[', ']', ',', ';', '=', ':', '-', '/',
] as const

/** An operator or punctuation token's text. */
export type Operator = (typeof operators)[number]

/** Bit widths of the formats that imply one, for masks written as prefix lengths (CIDR). */
const prefixWidth: Partial<Record<IntFormat, number>> = {ipv4: 32, ipv6: 128}

function isIdStart(c: string): boolean {
  return /[A-Za-z_.]/.test(c)
}

function isIdChar(c: string): boolean {
  return /[A-Za-z0-9_.]/.test(c)
}

/** Splits `text` into tokens; throws PipelineSyntaxError at the first character that starts no token. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (true) {
    i = skipSpaceAndComments(text, i)
    const column = i + 1
    if (i >= text.length) {
      tokens.push({kind: 'end', column})
      return tokens
    }
    const c = text[i]
    if (c === '"') {
      const [str, next] = lexString(text, i)
      tokens.push({kind: 'string', text: str, column})
      i = next
    } else if ((c === '$' || c === '@') && i + 1 < text.length && isIdStart(text[i + 1])) {
      let j = i + 1
      while (j < text.length && isIdChar(text[j])) j++
      tokens.push({kind: c === '$' ? 'addrset' : 'portgroup', text: text.slice(i + 1, j), column})
      i = j
    } else if (/[0-9]/.test(c) || (c === ':' && text[i + 1] === ':') || (isHex(c) && looksLikeMacOrIpv6(text, i))) {
      const [tok, next] = lexNumber(text, i)
      tokens.push(tok)
      i = next
    } else if (isIdStart(c) && !(c === '.' && text[i + 1] === '.')) {
      let j = i
      while (j < text.length && isIdChar(text[j])) j++
      tokens.push({kind: 'id', text: text.slice(i, j), column})
      i = j
    } else {
      const op = operators.find((o) => text.startsWith(o, i))
      if (!op) throw new PipelineSyntaxError(`unexpected character ${JSON.stringify(c)}`, column)
      tokens.push({kind: 'op', text: op, column})
      i += op.length
    }
  }
}

function isHex(c: string): boolean {
  return /[0-9a-fA-F]/.test(c)
}

/** A run such as `fe80::1` or `aa:bb:...` starts with hex letters but is a number, not an identifier. */
function looksLikeMacOrIpv6(text: string, i: number): boolean {
  let j = i
  while (j < text.length && isHex(text[j])) j++
  return text[j] === ':' && j - i <= 4
}

function skipSpaceAndComments(text: string, i: number): number {
  while (i < text.length) {
    if (/\s/.test(text[i])) {
      i++
    } else if (text.startsWith('//', i)) {
      while (i < text.length && text[i] !== '\n') i++
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2)
      if (end < 0) throw new PipelineSyntaxError('unterminated comment', i + 1)
      i = end + 2
    } else {
      break
    }
  }
  return i
}

function lexString(text: string, start: number): [string, number] {
  // JSON string syntax (ovn-sb(5): "String constants have the same syntax as quoted strings in JSON").
  let j = start + 1
  while (j < text.length && text[j] !== '"') {
    if (text[j] === '\\') j++
    j++
  }
  if (j >= text.length) throw new PipelineSyntaxError('unterminated string', start + 1)
  try {
    return [JSON.parse(text.slice(start, j + 1)) as string, j + 1]
  } catch {
    throw new PipelineSyntaxError('invalid escape in string', start + 1)
  }
}

/** Reads the maximal run of characters that can make up a number, as ovn's lexer does. */
function numberRun(text: string, i: number): number {
  let j = i
  while (j < text.length && (/[A-Za-z0-9:]/.test(text[j]) || (text[j] === '.' && /[0-9]/.test(text[j + 1] ?? '')))) j++
  return j
}

function lexNumber(text: string, start: number): [Token, number] {
  const column = start + 1
  let end = numberRun(text, start)
  let parsed = parseNumber(text.slice(start, end))
  if (!parsed) {
    // `10.0.0.2:80` (ct_lb backends): an IPv4 address followed by a port separator.
    const m = /^\d+\.\d+\.\d+\.\d+/.exec(text.slice(start, end))
    parsed = m ? parseNumber(m[0]) : undefined
    if (!parsed || !m) throw new PipelineSyntaxError(`invalid numeric constant ${JSON.stringify(text.slice(start, end))}`, column)
    end = start + m[0].length
  }
  const tok: Token = {kind: 'int', value: parsed.value, format: parsed.format, column}
  if (text[end] === '/' && text[end + 1] !== '/' && text[end + 1] !== '*') {
    const maskEnd = numberRun(text, end + 1)
    const mask = parseMask(text.slice(end + 1, maskEnd), parsed.format, end + 2)
    if ((tok.value & ~mask) !== 0n) throw new PipelineSyntaxError('value contains unmasked 1-bits', column)
    tok.mask = mask
    end = maskEnd
  }
  return [tok, end]
}

function parseMask(s: string, format: IntFormat, column: number): bigint {
  const width = prefixWidth[format]
  if (width !== undefined && /^\d+$/.test(s)) {
    const n = Number(s)
    if (n > width) throw new PipelineSyntaxError(`prefix length ${n} exceeds ${width} bits`, column)
    return ((1n << BigInt(n)) - 1n) << BigInt(width - n)
  }
  const parsed = parseNumber(s)
  if (!parsed) throw new PipelineSyntaxError(`invalid mask ${JSON.stringify(s)}`, column)
  return parsed.value
}

/** Parses one number in any notation; undefined when `s` is none of them. */
export function parseNumber(s: string): {value: bigint; format: IntFormat} | undefined {
  if (/^[0-9]+$/.test(s)) return {value: BigInt(s), format: 'decimal'}
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) return {value: BigInt(s), format: 'hex'}
  if (/^([0-9a-fA-F]{1,2}:){5}[0-9a-fA-F]{1,2}$/.test(s)) {
    return {value: s.split(':').reduce((acc, b) => (acc << 8n) | BigInt(parseInt(b, 16)), 0n), format: 'mac'}
  }
  const v4 = parseIpv4(s)
  if (v4 !== undefined) return {value: v4, format: 'ipv4'}
  const v6 = parseIpv6(s)
  if (v6 !== undefined) return {value: v6, format: 'ipv6'}
  return undefined
}

/** Dotted-quad IPv4 to a 32-bit value. */
export function parseIpv4(s: string): bigint | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s)
  if (!m) return undefined
  const parts = m.slice(1).map(Number)
  if (parts.some((p) => p > 255)) return undefined
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n)
}

/** Any standard IPv6 text form (RFC 4291 §2.2, including an embedded IPv4 tail) to a 128-bit value. */
export function parseIpv6(s: string): bigint | undefined {
  if (!s.includes(':') || (s.match(/::/g) ?? []).length > 1) return undefined
  let tail: bigint[] = []
  let body = s
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s)
  if (v4) {
    const value = parseIpv4(v4[1])
    if (value === undefined) return undefined
    tail = [value >> 16n, value & 0xffffn]
    body = s.slice(0, s.length - v4[1].length)
    if (body.endsWith(':') && !body.endsWith('::')) body = body.slice(0, -1)
  }
  const [left, right] = body.includes('::') ? body.split('::') : [body, undefined]
  const groups = (g: string): bigint[] | undefined => {
    if (g === '') return []
    const parts = g.split(':')
    if (parts.some((p) => !/^[0-9a-fA-F]{1,4}$/.test(p))) return undefined
    return parts.map((p) => BigInt(parseInt(p, 16)))
  }
  const l = groups(left)
  const r = right === undefined ? [] : groups(right)
  if (!l || !r) return undefined
  const fill = 8 - l.length - r.length - tail.length
  if (right === undefined ? fill !== 0 : fill < 1) return undefined
  const all = [...l, ...Array<bigint>(fill).fill(0n), ...r, ...tail]
  return all.reduce((acc, g) => (acc << 16n) | g, 0n)
}
