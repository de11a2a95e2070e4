/**
 * Compilation of logical actions to OpenFlow actions, as ovn-controller 23.03 does it (ovn-architecture(7)
 * "Architectural Physical Life Cycle of a Packet", ovn-sb(5) Logical_Flow "actions"). Logical table N of the
 * ingress pipeline is OpenFlow table 8+N, of the egress pipeline 42+N; `output` resubmits to table 37 (ingress)
 * or 64 (egress); connection tracking zones live in registers (reg13 for a switch's conntrack, reg11 for DNAT
 * and common NAT, reg12 for SNAT). Actions that build packets become controller actions whose userdata carries
 * the nested actions in OpenFlow 1.5 wire format. What cannot be encoded is an EncodeError, never dropped.
 */
import {resolveField, type ResolvedField} from './action-fields.js'
import type {Action, Pipeline} from './actions.js'
import {encodeControllerAction} from './actions-controller.js'
import {encodeCtAction} from './actions-ct.js'
import {EncodeError} from './errors.js'
import type {Constant, FieldRef} from './expr.js'
import type {DhcpOptionTable} from './dhcp-options.js'
import type {SymbolTable} from './symbols.js'
import {formatOfActions, type OfAction} from '../openflow/actions.js'
import type {OfSubfield} from '../openflow/fields.js'

/** The OpenFlow tables ovn-controller 23.03 uses (lflow.h "OFTABLE_*"). */
export interface TableMap {
  ingressBase: number
  egressBase: number
  ingressOutput: number
  egressOutput: number
  /** Logical tables per pipeline; `next` may not go beyond the last. */
  logicalTables: number
  macBinding: number
  macLookup: number
  chkLbHairpin: number
  chkLbHairpinReply: number
  getFdb: number
  lookupFdb: number
  chkInPortSec: number
  chkOutPortSec: number
  ecmpNhMac: number
  ecmpNh: number
  chkLbAffinity: number
  ctSnatToVip: number
}

/** Table numbers observed with ovn-controller 23.03. */
export const defaultTables: TableMap = {
  ingressBase: 8,
  egressBase: 42,
  ingressOutput: 37,
  egressOutput: 64,
  logicalTables: 29,
  macBinding: 66,
  macLookup: 67,
  chkLbHairpin: 68,
  chkLbHairpinReply: 69,
  getFdb: 71,
  lookupFdb: 72,
  chkInPortSec: 73,
  chkOutPortSec: 75,
  ecmpNhMac: 76,
  ecmpNh: 77,
  chkLbAffinity: 78,
  ctSnatToVip: 70,
}

/** What encoding needs to know about the flow and the chassis. */
export interface ActionContext {
  symtab: SymbolTable
  pipeline: Pipeline
  /** Logical table id of the flow. */
  tableId: number
  /** Kind of the flow's datapath: it picks the conntrack zone registers. */
  datapath: 'switch' | 'router'
  /** Tunnel key of a logical port of the datapath, undefined when it does not exist. */
  lookupPort(name: string): number | undefined
  /** Group id for a group's text (without `group_id=`); defaults to 1, 2, ... within one call. */
  allocateGroupId?: (spec: string) => number
  /** Meter id for an unnamed meter's text (set_meter); defaults to 1, 2, ... within one call. */
  allocateMeterId?: (spec: string) => number
  /** Id of a named meter (log and trigger_event `meter=`), undefined when there is none of that name. */
  lookupMeter?: (name: string) => number | undefined
  tables?: Partial<TableMap>
  dhcpOptions?: DhcpOptionTable
  dhcpv6Options?: DhcpOptionTable
}

/** A select group to install: `group_id=N,type=select,...` as ovs-ofctl dump-groups prints it. */
export interface GroupSpec {
  id: number
  text: string
}

/** A meter to install: `meter=N kbps ...` as ovs-ofctl dump-meters describes it. */
export interface MeterSpec {
  id: number
  text: string
}

/** The OpenFlow form of one logical action list. */
export interface EncodedActions {
  /** ovs-ofctl action text (`drop` for none). */
  ofActions: string
  actions: OfAction[]
  groups: GroupSpec[]
  meters: MeterSpec[]
}

/** State shared by the encoders of the different action families during one call. */
export class Encoder {
  readonly tables: TableMap
  readonly groups: GroupSpec[] = []
  readonly meters: MeterSpec[] = []
  private nextGroup = 1
  private nextMeter = 1

  constructor(readonly ctx: ActionContext) {
    this.tables = {...defaultTables, ...ctx.tables}
  }

  /** A field reference resolved against the symbol table. */
  field(ref: FieldRef): ResolvedField {
    return resolveField(ref, this.ctx.symtab)
  }

  /** The OpenFlow table of logical table `table` in `pipeline`, checking the pipeline's bound. */
  logicalTable(pipeline: Pipeline, table: number): number {
    if (table >= this.tables.logicalTables) {
      throw new EncodeError(`"next" action cannot advance beyond table ${this.tables.logicalTables - 1}`)
    }
    return (pipeline === 'ingress' ? this.tables.ingressBase : this.tables.egressBase) + table
  }

  /** The OpenFlow table that `next;` resubmits to. */
  nextTable(): number {
    return this.logicalTable(this.ctx.pipeline, this.ctx.tableId + 1)
  }

  /** Tunnel key of a logical port ("" is 0, no port). */
  portKey(name: string): number {
    if (name === '') return 0
    const key = this.ctx.lookupPort(name)
    if (key === undefined) throw new EncodeError(`Unknown logical port "${name}"`)
    return key
  }

  /** Id of a named meter. */
  meterByName(name: string): number {
    const id = this.ctx.lookupMeter?.(name)
    if (id === undefined) throw new EncodeError(`Unknown meter "${name}"`)
    return id
  }

  /** Registers a group and returns its id (one id per distinct text). */
  group(spec: string): number {
    const id = this.ctx.allocateGroupId ? this.ctx.allocateGroupId(spec) : this.nextGroup++
    if (!this.groups.some((g) => g.id === id)) this.groups.push({id, text: `group_id=${id},${spec}`})
    return id
  }

  /** Registers a meter and returns its id. */
  meter(spec: string): number {
    const id = this.ctx.allocateMeterId ? this.ctx.allocateMeterId(spec) : this.nextMeter++
    if (!this.meters.some((m) => m.id === id)) this.meters.push({id, text: `meter=${id} ${spec}`})
    return id
  }

  /** Encodes a list of actions (also used for nested ones). */
  encodeList(actions: readonly Action[]): OfAction[] {
    return actions.flatMap((a) => this.encodeOne(a))
  }

  private encodeOne(a: Action): OfAction[] {
    switch (a.type) {
      case 'next': {
        const pipeline = a.pipeline ?? this.ctx.pipeline
        return [{type: 'resubmit', table: this.logicalTable(pipeline, a.table ?? this.ctx.tableId + 1)}]
      }
      case 'output':
        return [{type: 'resubmit', table: this.ctx.pipeline === 'ingress' ? this.tables.ingressOutput : this.tables.egressOutput}]
      case 'drop':
        return []
      case 'load':
        return [this.load(this.field(a.dst), a.value)]
      case 'move':
        return [{type: 'move', src: this.field(a.src).of, dst: this.field(a.dst).of}]
      case 'exchange': {
        const x = this.field(a.a).of
        const y = this.field(a.b).of
        return [push(y), push(x), pop(y), pop(x)]
      }
      case 'push':
      case 'pop':
        return [{type: a.type, field: this.field(a.field).of}]
      case 'dec_ttl':
        return [{type: 'dec_ttl'}]
      case 'ct_snat_to_vip':
        // The load balancers' hairpin SNAT flows live in their own table (ovn-controller 23.03: table 70).
        return [{type: 'resubmit', table: this.tables.ctSnatToVip}]
      case 'set_queue':
        return [{type: 'set_queue', queue: a.queue}]
      case 'set_meter': {
        const spec = a.burst === undefined ? `kbps stats bands=type=drop rate=${a.rate}` : `kbps burst stats bands=type=drop rate=${a.rate} burst_size=${a.burst}`
        return [{type: 'meter', id: this.meter(spec)}]
      }
      case 'check_pkt_larger':
        return [{type: 'check_pkt_larger', length: a.length, dst: this.field(a.dst).of}]
      case 'select':
        return [this.select(a)]
      case 'ct_next':
      case 'ct_commit':
      case 'ct_nat':
      case 'ct_commit_nat':
      case 'ct_clear':
      case 'ct_lb':
        return encodeCtAction(a, this)
      default:
        return encodeControllerAction(a, this)
    }
  }

  /** `set_field` for `dst = constant` (port names become tunnel keys). */
  load(dst: ResolvedField, c: Constant): OfAction {
    const width = dst.hi - dst.lo + 1
    const shift = BigInt(dst.lo)
    if (c.kind === 'string') {
      return {type: 'set_field', field: dst.of.field, value: BigInt(this.portKey(c.text)) << shift, mask: ((1n << BigInt(width)) - 1n) << shift}
    }
    const mask = c.mask ?? (1n << BigInt(width)) - 1n
    return {type: 'set_field', field: dst.of.field, value: (c.value & mask) << shift, mask: mask << shift}
  }

  private select(a: Extract<Action, {type: 'select'}>): OfAction {
    const dst = this.field(a.dst)
    const next = this.nextTable()
    const buckets = a.members.map((m, i) => {
      const load = this.load(dst, {kind: 'int', value: BigInt(m.value), format: 'decimal'})
      return `bucket=bucket_id:${i},weight:${m.weight},actions=${formatOfActions([load, {type: 'resubmit', table: next}])}`
    })
    // ovn-controller asks for dp_hash over all 32 bits of the hash (selection_method_param 1 << 32).
    return {type: 'group', id: this.group(`type=select,selection_method=dp_hash,selection_method_param=4294967296,${buckets.join(',')}`)}
  }
}

/** A `push` of a subfield. */
export function push(field: OfSubfield): OfAction {
  return {type: 'push', field}
}

/** A `pop` into a subfield. */
export function pop(field: OfSubfield): OfAction {
  return {type: 'pop', field}
}

/** Compiles actions to OpenFlow for a flow of the pipeline, table and datapath the context names. */
export function encodeActions(actions: readonly Action[], ctx: ActionContext): EncodedActions {
  const enc = new Encoder(ctx)
  let out = enc.encodeList(actions)
  // OpenFlow 1.1+ puts a meter instruction before the action list (ovs-ofctl refuses it later on).
  const meters = out.filter((a) => a.type === 'meter')
  if (meters.length > 1) throw new EncodeError('Cannot encode more than one set_meter in one flow')
  out = [...meters, ...out.filter((a) => a.type !== 'meter')]
  return {ofActions: formatOfActions(out), actions: out, groups: enc.groups, meters: enc.meters}
}
