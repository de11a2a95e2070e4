/** A strict RFC 4180 reader for tests that check CSV output. */

/** Reads CSV as RFC 4180 §2 writes it: quoted fields may hold commas, quotes (doubled) and line breaks. */
export function parseCsv(text: string): string[][] {
  if (!text.endsWith('\n')) throw new Error(`CSV does not end with a line break: ${JSON.stringify(text)}`)
  const rows: string[][] = [[]]
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++
      else if (c === '"') quoted = false
      else field += c
    } else if (c === '"' && field === '') quoted = true
    else if (c === '"') throw new Error(`CSV: quote inside an unquoted field at offset ${i}: ${JSON.stringify(text)}`)
    else if (c === ',') rows.at(-1)!.push(field), (field = '')
    else if (c === '\n') rows.at(-1)!.push(field), (field = ''), rows.push([])
    else field += c
  }
  if (quoted) throw new Error(`CSV: unterminated quoted field: ${JSON.stringify(text)}`)
  rows.pop()
  return rows
}
