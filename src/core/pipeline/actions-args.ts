/**
 * The argument grammars of individual actions (ovn-sb(5) Logical_Flow "actions"): `next(...)`, NAT targets and
 * port ranges, load balancer backends and options, `log(...)`, `trigger_event(...)`, `commit_ecmp_nh(...)`, DHCP
 * style `name = value` options and `select(...)` members. The statement-level parser extends this class.
 */
import type {Action, Backend, IpConstant, LogSeverity, NatName, OptionValue, Pipeline} from './actions.js'
import {logSeverities} from './actions.js'
import {PipelineSyntaxError} from './errors.js'
import type {Constant} from './expr.js'
import {parseValues, type TokenStream} from './parser.js'

/** Parsers of action arguments over a token stream. */
export class ActionArgsParser {
  constructor(protected readonly ts: TokenStream) {}

  protected smallInt(max: number, what: string): number {
    const column = this.ts.peek().column
    const v = this.ts.expectInteger(what)
    if (v > BigInt(max)) this.fail(column, `${what} ${v} exceeds ${max}`)
    return Number(v)
  }

  protected fail(column: number, detail: string): never {
    throw new PipelineSyntaxError(detail, column)
  }

  protected ip(): IpConstant {
    const t = this.ts.peek()
    if (t.kind !== 'int' || t.mask !== undefined || (t.format !== 'ipv4' && t.format !== 'ipv6')) this.ts.fail('expecting IP address')
    this.ts.next()
    return {value: (t as {value: bigint}).value, format: (t as {format: 'ipv4' | 'ipv6'}).format}
  }

  protected parseNat(name: NatName): Action {
    const ts = this.ts
    if (!ts.matchOp('(')) return {type: 'ct_nat', name}
    const ip = this.ip()
    let ports: [number, number] | undefined
    if (ts.matchOp(',')) {
      const lo = this.smallInt(0xffff, 'port')
      const hi = ts.matchOp('-') ? this.smallInt(0xffff, 'port') : lo
      if (hi < lo) ts.fail(`invalid port range ${lo}-${hi}`)
      ports = [lo, hi]
    }
    ts.expectOp(')')
    return {type: 'ct_nat', name, ip, ports}
  }

  protected backend(): Backend {
    const ts = this.ts
    if (ts.matchOp('[')) {
      const ip = this.ip()
      ts.expectOp(']')
      if (ip.format !== 'ipv6') ts.fail('expecting IPv6 address in brackets')
      return ts.matchOp(':') ? {ip, port: this.smallInt(0xffff, 'port')} : {ip}
    }
    const ip = this.ip()
    if (ip.format === 'ipv4' && ts.matchOp(':')) return {ip, port: this.smallInt(0xffff, 'port')}
    return {ip}
  }

  protected parseCtLb(mark: boolean): Action {
    const ts = this.ts
    if (!ts.matchOp('(')) return {type: 'ct_lb', mark}
    if (ts.isId('backends')) {
      ts.next()
      ts.expectOp('=')
    }
    const backends: Backend[] = [this.backend()]
    while (ts.matchOp(',')) backends.push(this.backend())
    let hashFields: string[] | undefined
    let ctFlag: 'skip_snat' | 'force_snat' | undefined
    while (ts.matchOp(';')) {
      const key = ts.expectId('"hash_fields", "skip_snat" or "force_snat"')
      if (key === 'hash_fields') {
        ts.expectOp('=')
        hashFields = ts.expectString('hash fields').split(',').map((s) => s.trim())
      } else if (key === 'skip_snat' || key === 'force_snat') {
        ctFlag = key
      } else {
        ts.fail(`unknown ${mark ? 'ct_lb_mark' : 'ct_lb'} option ${JSON.stringify(key)}`)
      }
    }
    ts.expectOp(')')
    return {type: 'ct_lb', mark, backends, hashFields, ctFlag}
  }

  protected keyValues(parse: (key: string, column: number) => void): void {
    const ts = this.ts
    if (ts.matchOp(')')) return
    do {
      const column = ts.peek().column
      const key = ts.expectId('option name')
      ts.expectOp('=')
      parse(key, column)
    } while (ts.matchOp(','))
    ts.expectOp(')')
  }

  protected parseLog(): Action {
    const ts = this.ts
    const a: Extract<Action, {type: 'log'}> = {type: 'log'}
    this.keyValues((key, column) => {
      if (key === 'name') a.name = ts.expectString('log name')
      else if (key === 'meter') a.meter = ts.expectString('meter name')
      else if (key === 'severity') {
        const s = ts.expectId('severity')
        if (!(s in logSeverities)) this.fail(column, `unknown severity ${JSON.stringify(s)}`)
        a.severity = s as LogSeverity
      } else if (key === 'verdict') {
        const v = ts.expectId('verdict')
        if (v !== 'allow' && v !== 'drop' && v !== 'reject') this.fail(column, `unknown verdict ${JSON.stringify(v)}`)
        a.verdict = v
      } else this.fail(column, `unknown log option ${JSON.stringify(key)}`)
    })
    return a
  }

  protected parseTriggerEvent(): Action {
    let event: string | undefined
    let meter: string | undefined
    const options: Array<[string, string]> = []
    this.keyValues((key) => {
      const value = this.ts.expectString(`${key} value`)
      if (key === 'event') event = value
      else if (key === 'meter') meter = value
      else options.push([key, value])
    })
    if (event === undefined) this.ts.fail('trigger_event needs an "event" option')
    return {type: 'trigger_event', event, options, meter}
  }

  protected parseCommitEcmpNh(): Action {
    let ipv6: boolean | undefined
    let proto: 'tcp' | 'udp' | 'sctp' | undefined
    this.keyValues((key, column) => {
      const v = this.ts.expectId(`${key} value`)
      if (key === 'ipv6' && (v === 'true' || v === 'false')) ipv6 = v === 'true'
      else if (key === 'proto' && (v === 'tcp' || v === 'udp' || v === 'sctp')) proto = v
      else this.fail(column, `invalid commit_ecmp_nh option ${key} = ${v}`)
    })
    if (ipv6 === undefined || proto === undefined) this.ts.fail('commit_ecmp_nh needs "ipv6" and "proto"')
    return {type: 'commit_ecmp_nh', ipv6, proto}
  }

  protected options(): OptionValue[] {
    const out: OptionValue[] = []
    this.keyValues((name) => {
      const {values, isSet} = parseValues(this.ts)
      out.push({name, values: values as Constant[], isSet})
    })
    return out
  }

  protected selectMembers(): Array<{value: number; weight: number}> {
    const ts = this.ts
    const members: Array<{value: number; weight: number}> = []
    do {
      const value = this.smallInt(0xffffffff, 'select value')
      const weight = ts.matchOp('=') ? this.smallInt(0xffff, 'weight') : 100
      if (weight === 0) ts.fail('select weight must be positive')
      members.push({value, weight})
    } while (ts.matchOp(','))
    ts.expectOp(')')
    return members
  }

  protected parseNext(): Action {
    const ts = this.ts
    if (!ts.matchOp('(')) return {type: 'next'}
    let pipeline: Pipeline | undefined
    let table: number | undefined
    if (ts.peek().kind === 'int') {
      table = this.smallInt(255, 'table number')
    } else {
      do {
        const key = ts.expectId('"pipeline" or "table"')
        ts.expectOp('=')
        if (key === 'pipeline') {
          const p = ts.expectId('pipeline name')
          if (p !== 'ingress' && p !== 'egress') ts.fail('expecting "ingress" or "egress"')
          pipeline = p as Pipeline
        } else if (key === 'table') {
          table = this.smallInt(255, 'table number')
        } else {
          ts.fail(`unknown "next" argument ${JSON.stringify(key)}`)
        }
      } while (ts.matchOp(','))
    }
    ts.expectOp(')')
    return pipeline === undefined ? {type: 'next', table} : {type: 'next', pipeline, table}
  }
}
