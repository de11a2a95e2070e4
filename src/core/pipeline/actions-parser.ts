/**
 * Parser of logical flow actions (ovn-sb(5) Logical_Flow "actions"): a sequence of actions each ended by `;`,
 * sharing the match language's lexer. Fields are checked against the symbol table as they are parsed (writable,
 * same width and type on both sides of `=` and `<->`), so that a bad action fails with the column of its start.
 */
import {checkWritable, resolveField, widthOf, type ResolvedField} from './action-fields.js'
import {ActionArgsParser} from './actions-args.js'
import {nestedActionNames, resultActionNames, type Action, type NatName, type NestedName, type ResultName} from './actions.js'
import {PipelineSemanticError, PipelineSyntaxError} from './errors.js'
import type {Constant, FieldRef} from './expr.js'
import {parseFieldRef, parseValues, TokenStream} from './parser.js'
import type {SymbolTable} from './symbols.js'

/** Bound on the nesting depth of `{ ... }` actions, so hostile input cannot exhaust the stack. */
export const actionNestingMax = 16

const natNames: readonly string[] = ['ct_dnat', 'ct_snat', 'ct_dnat_in_czone', 'ct_snat_in_czone']
const noArgActions: Record<string, Action> = {
  output: {type: 'output'},
  ct_next: {type: 'ct_next'},
  ct_clear: {type: 'ct_clear'},
  ct_commit_nat: {type: 'ct_commit_nat'},
  ct_snat_to_vip: {type: 'ct_snat_to_vip'},
  igmp: {type: 'controller_op', name: 'igmp'},
  handle_dhcpv6_reply: {type: 'controller_op', name: 'handle_dhcpv6_reply'},
}
const ovnFields: readonly string[] = ['icmp4.frag_mtu', 'icmp6.frag_mtu']

/** Parses an action string; throws PipelineSyntaxError (with column) or PipelineSemanticError. */
export function parseActions(text: string, symtab: SymbolTable): Action[] {
  const ts = TokenStream.of(text)
  const p = new ActionParser(ts, symtab)
  const actions = p.parseList(undefined, 0)
  if (actions.length === 1 && actions[0].type === 'drop') return []
  if (actions.some((a) => a.type === 'drop')) {
    throw new PipelineSemanticError('"drop" must be the only action')
  }
  return actions
}

class ActionParser extends ActionArgsParser {
  constructor(
    ts: TokenStream,
    private readonly symtab: SymbolTable,
  ) {
    super(ts)
  }

  /** Actions until `}` (nested) or the end of input. */
  parseList(closing: '}' | undefined, depth: number, inCtCommit = false): Action[] {
    if (depth > actionNestingMax) this.ts.fail(`actions nested more than ${actionNestingMax} deep`)
    const out: Action[] = []
    while (!(closing ? this.ts.isOp(closing) : this.ts.atEnd())) {
      if (this.ts.atEnd()) this.ts.fail('expecting "}"')
      if (this.ts.matchOp(';')) continue
      out.push(inCtCommit ? this.parseCtCommitAction() : this.parseAction(depth))
      // ovn-sb(5): "each terminated by a semicolon", inside braces too.
      this.ts.expectOp(';')
    }
    return out
  }

  private field(ref: FieldRef, column: number): ResolvedField {
    try {
      return resolveField(ref, this.symtab)
    } catch (e) {
      if (e instanceof PipelineSemanticError) throw new PipelineSyntaxError(e.message, column)
      throw e
    }
  }

  private fieldRef(): {ref: FieldRef; r: ResolvedField} {
    const column = this.ts.peek().column
    const ref = parseFieldRef(this.ts)
    return {ref, r: this.field(ref, column)}
  }

  private parseAction(depth: number): Action {
    const ts = this.ts
    const t = ts.peek()
    if (t.kind !== 'id') return ts.fail('expecting action')
    const name = t.text
    if (ovnFields.includes(name) && ts.isOp('=', 1)) {
      ts.next()
      ts.next()
      return {type: 'ovn_field', name: name as 'icmp4.frag_mtu', value: this.smallInt(0xffff, `${name} value`)}
    }
    if (ts.isOp('=', 1) || ts.isOp('<->', 1) || ts.isOp('[', 1) || ts.isOp('--', 1)) return this.parseAssignment()
    ts.next()
    if (name === 'drop') return {type: 'drop'}
    if (name in noArgActions) return noArgActions[name]
    if ((nestedActionNames as readonly string[]).includes(name) && ts.isOp('{')) {
      ts.next()
      const actions = this.parseList('}', depth + 1)
      ts.expectOp('}')
      return {type: 'nested', name: name as NestedName, actions}
    }
    switch (name) {
      case 'next':
        return this.parseNext()
      case 'ct_commit':
        return this.parseCtCommit(depth)
      case 'ct_lb':
      case 'ct_lb_mark':
        return this.parseCtLb(name === 'ct_lb_mark')
      default:
    }
    if (natNames.includes(name)) return this.parseNat(name as NatName)
    ts.expectOp('(')
    return this.parseCall(name, t.column)
  }

  private parseAssignment(): Action {
    const ts = this.ts
    const start = ts.peek().column
    const {ref: dst, r: d} = this.fieldRef()
    if (ts.matchOp('--')) {
      if (dst.name !== 'ip.ttl' || dst.lo !== undefined) this.fail(start, 'expecting "ip.ttl" before "--"')
      return {type: 'dec_ttl'}
    }
    if (ts.matchOp('<->')) {
      const column = ts.peek().column
      const {ref: b, r: s} = this.fieldRef()
      this.checkPair(d, s, column)
      this.writable(d, start)
      this.writable(s, column)
      return {type: 'exchange', a: dst, b}
    }
    ts.expectOp('=')
    const rhs = ts.peek()
    if (rhs.kind === 'id' && ts.isOp('(', 1)) {
      ts.next()
      ts.next()
      return this.parseFunctionResult(rhs.text, dst, d, rhs.column, start)
    }
    this.writable(d, start)
    if (rhs.kind === 'id') {
      const {ref: src, r: s} = this.fieldRef()
      this.checkPair(d, s, rhs.column)
      return {type: 'move', dst, src}
    }
    const {values, isSet} = parseValues(ts)
    if (isSet || values.length !== 1) this.fail(rhs.column, 'expecting constant')
    return {type: 'load', dst, value: this.checkConstant(d, values[0] as Constant, rhs.column)}
  }

  private writable(r: ResolvedField, column: number, inCtCommit = false): void {
    try {
      checkWritable(r, {inCtCommit})
    } catch (e) {
      if (e instanceof PipelineSemanticError) this.fail(column, e.message)
      throw e
    }
  }

  private checkPair(d: ResolvedField, s: ResolvedField, column: number): void {
    if (Boolean(d.symbol.isString) !== Boolean(s.symbol.isString)) this.fail(column, 'Can\'t assign string field to integer field or vice versa')
    if (widthOf(d) !== widthOf(s)) {
      this.fail(column, `Can't assign ${widthOf(s)}-bit value to ${widthOf(d)}-bit destination`)
    }
  }

  private checkConstant(d: ResolvedField, c: Constant, column: number): Constant {
    if (d.symbol.isString) {
      if (c.kind !== 'string') this.fail(column, `String field "${d.ref.name}" cannot be assigned an integer`)
      return c
    }
    if (c.kind !== 'int') this.fail(column, `Integer field "${d.ref.name}" cannot be assigned a string`)
    const width = widthOf(d)
    const top = c.value | (c.mask ?? 0n)
    if (top >> BigInt(width) !== 0n) this.fail(column, `${top.toString(2).length}-bit constant is not allowed for ${width}-bit field "${d.ref.name}"`)
    return c
  }

  /** Inside `ct_commit { ... }`: assignments to ct_mark and ct_label only. */
  private parseCtCommitAction(): Action {
    const ts = this.ts
    const start = ts.peek().column
    const {ref: dst, r: d} = this.fieldRef()
    this.writable(d, start, true)
    ts.expectOp('=')
    const rhs = ts.peek()
    if (rhs.kind === 'id') {
      const {ref: src, r: s} = this.fieldRef()
      this.checkPair(d, s, rhs.column)
      return {type: 'move', dst, src}
    }
    const {values, isSet} = parseValues(ts)
    if (isSet) this.fail(rhs.column, 'expecting constant')
    return {type: 'load', dst, value: this.checkConstant(d, values[0] as Constant, rhs.column)}
  }

  private parseCtCommit(depth: number): Action {
    const ts = this.ts
    if (!ts.matchOp('{')) return {type: 'ct_commit', actions: []}
    const actions = this.parseList('}', depth + 1, true)
    ts.expectOp('}')
    return {type: 'ct_commit', actions}
  }

  private args(n: number): Array<{ref: FieldRef; r: ResolvedField}> {
    const out = []
    for (let i = 0; i < n; i++) {
      if (i > 0) this.ts.expectOp(',')
      out.push(this.fieldRef())
    }
    this.ts.expectOp(')')
    return out
  }

  /** `name(...)` actions that are not assignments. */
  private parseCall(name: string, column: number): Action {
    const ts = this.ts
    switch (name) {
      case 'get_arp':
      case 'get_nd': {
        const [p, ip] = this.args(2)
        return {type: 'get_mac', name, port: p.ref, ip: ip.ref}
      }
      case 'put_arp':
      case 'put_nd': {
        const [p, ip, mac] = this.args(3)
        return {type: 'put_mac', name, port: p.ref, ip: ip.ref, mac: mac.ref}
      }
      case 'put_fdb': {
        const [p, mac] = this.args(2)
        return {type: 'put_fdb', port: p.ref, mac: mac.ref}
      }
      case 'push':
      case 'pop': {
        const [x] = this.args(1)
        if (name === 'pop') this.writable(x.r, column)
        return {type: name, field: x.ref}
      }
      case 'handle_svc_check': {
        const [p] = this.args(1)
        return {type: 'handle_svc_check', port: p.ref}
      }
      case 'bind_vport': {
        const vport = ts.expectString('port name')
        ts.expectOp(',')
        const [p] = this.args(1)
        return {type: 'bind_vport', vport, port: p.ref}
      }
      case 'set_queue': {
        const queue = this.smallInt(61440, 'queue number')
        ts.expectOp(')')
        return {type: 'set_queue', queue}
      }
      case 'set_meter': {
        const rate = this.smallInt(0xffffffff, 'rate')
        const burst = ts.matchOp(',') ? this.smallInt(0xffffffff, 'burst') : undefined
        ts.expectOp(')')
        return {type: 'set_meter', rate, burst}
      }
      case 'log':
        return this.parseLog()
      case 'trigger_event':
        return this.parseTriggerEvent()
      case 'commit_ecmp_nh':
        return this.parseCommitEcmpNh()
      default:
        return this.fail(column, `expecting action, not ${JSON.stringify(name)}`)
    }
  }

  /** `R = name(...)`: lookups, checks, DHCP options, select. */
  private parseFunctionResult(name: string, dst: FieldRef, d: ResolvedField, column: number, start: number): Action {
    const ts = this.ts
    const oneBit = (): void => {
      if (widthOf(d) !== 1) this.fail(start, `${name} result must be a 1-bit field, not ${widthOf(d)} bits`)
      this.writable(d, start)
    }
    if ((resultActionNames as readonly string[]).includes(name)) {
      oneBit()
      ts.expectOp(')')
      return {type: 'result', name: name as ResultName, dst}
    }
    switch (name) {
      case 'lookup_arp':
      case 'lookup_nd': {
        oneBit()
        const [p, ip, mac] = this.args(3)
        return {type: 'lookup_mac', name, dst, port: p.ref, ip: ip.ref, mac: mac.ref}
      }
      case 'lookup_arp_ip':
      case 'lookup_nd_ip': {
        oneBit()
        const [p, ip] = this.args(2)
        return {type: 'lookup_mac_ip', name, dst, port: p.ref, ip: ip.ref}
      }
      case 'lookup_fdb': {
        oneBit()
        const [p, mac] = this.args(2)
        return {type: 'lookup_fdb', dst, port: p.ref, mac: mac.ref}
      }
      case 'get_fdb': {
        if (!d.symbol.isString && widthOf(d) !== 32) this.fail(start, `get_fdb result must be a logical port or a 32-bit field, not ${widthOf(d)} bits`)
        this.writable(d, start)
        const [mac] = this.args(1)
        return {type: 'get_fdb', dst, mac: mac.ref}
      }
      case 'check_pkt_larger': {
        oneBit()
        const length = this.smallInt(0xffff, 'packet length')
        ts.expectOp(')')
        return {type: 'check_pkt_larger', dst, length}
      }
      case 'put_dhcp_opts':
      case 'put_dhcpv6_opts':
      case 'put_nd_ra_opts': {
        oneBit()
        return {type: 'put_opts', name, dst, options: this.options()}
      }
      case 'select':
        this.writable(d, start)
        return {type: 'select', dst, members: this.selectMembers()}
      default:
        return this.fail(column, `expecting function, not ${JSON.stringify(name)}`)
    }
  }

}
