/**
 * Resolution of a field reference in an action to the bits it names: the logical field, the OpenFlow field
 * (ovs-fields(7)) and bit range behind it, and the prerequisites that using it implies (ovn-sb(5) Logical_Flow
 * "field = constant": "Assigning to a field with prerequisites implicitly adds those prerequisites to match").
 */
import {PipelineSemanticError} from './errors.js'
import {fieldBits} from './field-ref.js'
import type {FieldRef} from './expr.js'
import type {FieldSymbol, SymbolTable} from './symbols.js'
import type {OfSubfield} from '../openflow/fields.js'

/** A field reference resolved against the symbol table. */
export interface ResolvedField {
  ref: FieldRef
  symbol: FieldSymbol
  /** Bits of `symbol` named by the reference. */
  lo: number
  hi: number
  /** Expressions (match syntax) the use of the field requires. */
  prereqs: string[]
  /** The OpenFlow field (ovs set_field name) and bits. */
  of: OfSubfield
}

/** The L4 and ICMP fields share one OpenFlow match name but are distinct fields for set_field and move. */
function ofFieldName(sym: FieldSymbol): string {
  const [proto] = sym.name.split('.')
  if (sym.ofField === 'tp_src' || sym.ofField === 'tp_dst') return `${proto}_${sym.ofField.slice(3)}`
  if (sym.ofField === 'icmp_type' || sym.ofField === 'icmp_code') return proto === 'icmp6' ? sym.ofField.replace('icmp_', 'icmpv6_') : sym.ofField
  const aliases: Record<string, string> = {dl_src: 'eth_src', dl_dst: 'eth_dst', dl_type: 'eth_type', nw_src: 'ip_src', nw_dst: 'ip_dst', nw_proto: 'ip_proto', nw_frag: 'ip_frag'}
  return aliases[sym.ofField] ?? sym.ofField
}

/** Resolves `ref` (a field, a subfield symbol, or either narrowed with `[lo..hi]`); predicates are refused. */
export function resolveField(ref: FieldRef, symtab: SymbolTable): ResolvedField {
  const sym = symtab.get(ref.name)
  if (!sym) throw new PipelineSemanticError(`Syntax error at "${ref.name}": expecting field name`)
  if (sym.kind === 'predicate') throw new PipelineSemanticError(`Predicate symbol "${ref.name}" used where field required`)
  const {field, lo, hi, prereqs} = fieldBits(ref, sym, symtab)
  // The logical symbol's bits map one to one onto the OpenFlow field (wide registers included).
  return {ref, symbol: field, lo, hi, prereqs, of: {field: ofFieldName(field), lo, hi}}
}

/** Width in bits of a resolved reference. */
export function widthOf(r: ResolvedField): number {
  return r.hi - r.lo + 1
}

/** Fields only `ct_commit { ... }` may write (ovn-sb(5) "ct_commit"). */
export function isCtField(r: ResolvedField): boolean {
  return r.symbol.name === 'ct_mark' || r.symbol.name === 'ct_label'
}

/** Checks that actions may write `r`: outside ct_commit the connection tracking fields are read-only. */
export function checkWritable(r: ResolvedField, options: {inCtCommit?: boolean} = {}): void {
  if (options.inCtCommit) {
    if (!isCtField(r)) throw new PipelineSemanticError(`Field "${r.ref.name}" cannot be set within ct_commit: only ct_mark and ct_label can`)
    return
  }
  if (!r.symbol.writable || isCtField(r)) throw new PipelineSemanticError(`Field ${r.ref.name} is not modifiable.`)
}
