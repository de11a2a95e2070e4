/**
 * Writing roff for the man(7) macros: escaping text so groff prints it literally (groff_man(7), groff(7)
 * "Escape sequences"), and the few building blocks the pages use.
 */

/** Escapes text for a roff text line: backslash, hyphens as minus signs (copy-pastable flags), leading dot/quote. */
export function roffText(text: string): string {
  return text
    .replaceAll('\\', '\\e')
    .replaceAll('-', '\\-')
    .split('\n')
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join('\n')
}

/** Paragraphs separated by blank lines become `.PP` blocks; single newlines are kept as spaces. */
export function roffParagraphs(text: string): string {
  return text
    .trim()
    .split(/\n\s*\n/)
    .map((p) => roffText(p.replaceAll(/\s*\n\s*/g, ' ').trim()))
    .join('\n.PP\n')
}

/** A literal block (examples): no filling, indented. */
export function roffLiteral(text: string): string {
  return ['.RS 4', '.nf', roffText(text), '.fi', '.RE'].join('\n')
}

/** The title line (`.TH`): no date, so that regenerating gives the same bytes (`npm run man -- --check`). */
export function roffTitle(name: string, section: number, source: string, manual: string): string {
  return `.TH "${name.toUpperCase()}" "${section}" "" "${source}" "${manual}"`
}
