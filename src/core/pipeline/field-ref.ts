/**
 * Which bits of which field a reference names (ovn-sb(5) "Symbols"): a field, or a subfield symbol such as
 * `reg0`, either narrowed with `[lo..hi]`, together with the prerequisites of the symbols involved. Matches and
 * actions resolve references the same way.
 */
import {PipelineSemanticError} from './errors.js'
import type {FieldRef} from './expr.js'
import type {FieldSymbol, SubfieldSymbol, SymbolTable} from './symbols.js'

/** The bits a reference names, within `field`, and the prerequisites it brings. */
export interface FieldBits {
  field: FieldSymbol
  lo: number
  hi: number
  prereqs: string[]
}

/**
 * Resolves `ref`, already looked up as `sym` (a field or a subfield, not a predicate). Narrowing a string field
 * is refused; narrowing a nominal field too when `refuseNominalSubfield` (matches) is set.
 */
export function fieldBits(ref: FieldRef, sym: FieldSymbol | SubfieldSymbol, symtab: SymbolTable, options: {refuseNominalSubfield?: boolean} = {}): FieldBits {
  let field: FieldSymbol
  let lo = 0
  let width: number
  const prereqs: string[] = []
  if (sym.kind === 'subfield') {
    field = symtab.get(sym.parent) as FieldSymbol
    lo = sym.lo
    width = sym.hi - sym.lo + 1
    if (sym.prereqs) prereqs.push(sym.prereqs)
  } else {
    field = sym
    width = sym.width
  }
  if (field.prereqs) prereqs.push(field.prereqs)
  if (ref.lo === undefined || ref.hi === undefined) return {field, lo, hi: lo + width - 1, prereqs}
  if (field.isString) throw new PipelineSemanticError(`Cannot select subfield of string field "${ref.name}"`)
  if (options.refuseNominalSubfield && field.level === 'nominal') {
    throw new PipelineSemanticError(`Cannot select subfield of nominal field "${ref.name}"`)
  }
  if (ref.hi >= width) throw new PipelineSemanticError(`Cannot select bits ${ref.lo} to ${ref.hi} of ${width}-bit field "${ref.name}"`)
  return {field, lo: lo + ref.lo, hi: lo + ref.hi, prereqs}
}
