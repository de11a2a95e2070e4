/**
 * OpenFlow actions as values, printed in the syntax `ovs-ofctl` uses (ovs-actions(7)) and, for the subset that
 * can appear inside a controller action's userdata, encoded in the OpenFlow 1.5 wire format: OFPAT_SET_FIELD and
 * OFPAT_COPY_FIELD (OpenFlow 1.5 §7.2.3.7, §7.2.3.8), Nicira NXAST_RESUBMIT_TABLE, NXAST_STACK_PUSH/POP and
 * NXAST_CONTROLLER2 (ovs-actions(7), the "Nicira extension" encodings). ovn-controller appends such bytes to the
 * userdata of `arp { ... }`-like actions so that it can run them on the packet it builds.
 */
import {fieldHeader, formatSetField, formatSubfield, ofField, type OfSubfield} from './fields.js'

/** One OpenFlow action. */
export type OfAction =
  | {type: 'set_field'; field: string; value: bigint; mask?: bigint}
  | {type: 'move'; src: OfSubfield; dst: OfSubfield}
  | {type: 'push' | 'pop'; field: OfSubfield}
  | {type: 'resubmit'; table: number}
  | {type: 'controller'; userdata: Uint8Array; pause?: boolean; meterId?: number}
  | {type: 'ct'; commit?: boolean; table?: number; zone: OfSubfield; nat?: string; exec?: OfAction[]}
  | {type: 'clone'; actions: OfAction[]}
  | {type: 'check_pkt_larger'; length: number; dst: OfSubfield}
  | {type: 'group'; id: number}
  | {type: 'meter'; id: number}
  | {type: 'set_queue'; queue: number}
  | {type: 'dec_ttl'}
  | {type: 'ct_clear'}
  | {type: 'learn'; text: string}

/** Thrown when an action has no wire encoding here (only nested controller actions need one). */
export class ActionEncodingError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ActionEncodingError'
  }
}

/** Userdata bytes as ovs-ofctl prints them: two hex digits per byte, separated by dots. */
export function hexDots(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('.')
}

/** Text of one action in ovs-ofctl syntax. */
export function formatOfAction(a: OfAction): string {
  switch (a.type) {
    case 'set_field':
      return formatSetField(a.field, a.value, a.mask)
    case 'move':
      return `move:${formatSubfield(a.src)}->${formatSubfield(a.dst)}`
    case 'push':
    case 'pop':
      return `${a.type}:${formatSubfield(a.field)}`
    case 'resubmit':
      return `resubmit(,${a.table})`
    case 'controller': {
      const parts = [`userdata=${hexDots(a.userdata)}`]
      if (a.pause) parts.push('pause')
      if (a.meterId !== undefined) parts.push(`meter_id=${a.meterId}`)
      return `controller(${parts.join(',')})`
    }
    case 'ct': {
      const parts: string[] = []
      if (a.commit) parts.push('commit')
      if (a.table !== undefined) parts.push(`table=${a.table}`)
      parts.push(`zone=${formatSubfield(a.zone)}`)
      if (a.nat !== undefined) parts.push(a.nat === '' ? 'nat' : `nat(${a.nat})`)
      if (a.exec && a.exec.length > 0) parts.push(`exec(${formatOfActions(a.exec)})`)
      return `ct(${parts.join(',')})`
    }
    case 'clone':
      return `clone(${formatOfActions(a.actions)})`
    case 'check_pkt_larger':
      return `check_pkt_larger(${a.length})->${formatSubfield(a.dst)}`
    case 'group':
      return `group:${a.id}`
    case 'meter':
      return `meter:${a.id}`
    case 'set_queue':
      return `set_queue:${a.queue}`
    case 'dec_ttl':
      return 'dec_ttl()'
    case 'ct_clear':
      return 'ct_clear'
    case 'learn':
      return a.text
  }
}

/** Text of an action list; the empty list is `drop`, as ovs-ofctl prints it. */
export function formatOfActions(actions: readonly OfAction[]): string {
  return actions.length === 0 ? 'drop' : actions.map(formatOfAction).join(',')
}

/** A growable big-endian byte buffer (userdata bodies: DHCP options, event options). */
export class ByteWriter {
  private readonly out: number[] = []

  u8(v: number): this {
    this.out.push(v & 0xff)
    return this
  }

  u16(v: number): this {
    return this.u8(v >> 8).u8(v)
  }

  u32(v: number): this {
    return this.u16(v >>> 16).u16(v & 0xffff)
  }

  big(v: bigint, bytes: number): this {
    for (let i = bytes - 1; i >= 0; i--) this.u8(Number((v >> BigInt(8 * i)) & 0xffn))
    return this
  }

  raw(b: Uint8Array): this {
    this.out.push(...b)
    return this
  }

  zeros(n: number): this {
    for (let i = 0; i < n; i++) this.u8(0)
    return this
  }

  /** Pads with zeros to a multiple of 8 bytes (OpenFlow actions are 64-bit aligned). */
  pad8(from = 0): this {
    return this.zeros((8 - ((this.out.length - from) % 8)) % 8)
  }

  get length(): number {
    return this.out.length
  }

  setU16(at: number, v: number): void {
    this.out[at] = (v >> 8) & 0xff
    this.out[at + 1] = v & 0xff
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.out)
  }
}

const ofpatSetField = 25
const ofpatCopyField = 28
const nxVendor = 0x00002320
const nxastResubmitTable = 14
const nxastStackPush = 27
const nxastStackPop = 28
const nxastController2 = 37
const nxac2ptUserdata = 3
const nxac2ptPause = 4
/** OFPP_IN_PORT: resubmit keeps the packet's input port (OpenFlow 1.0 port numbering, as NXAST uses). */
const ofppInPort = 0xfff8

function experimenter(b: ByteWriter, subtype: number, body: (b: ByteWriter) => void): void {
  const start = b.length
  b.u16(0xffff).u16(0).u32(nxVendor).u16(subtype)
  body(b)
  b.pad8(start)
  b.setU16(start + 2, b.length - start)
}

function encodeOne(b: ByteWriter, a: OfAction): void {
  switch (a.type) {
    case 'set_field': {
      const f = ofField(a.field)
      const full = (1n << BigInt(f.bytes * 8)) - 1n
      const mask = a.mask ?? (1n << BigInt(f.bits)) - 1n
      const masked = mask !== full
      const start = b.length
      b.u16(ofpatSetField).u16(0).u32(fieldHeader(a.field, 'oxm', masked)).big(a.value & mask, f.bytes)
      if (masked) b.big(mask, f.bytes)
      b.pad8(start)
      b.setU16(start + 2, b.length - start)
      return
    }
    case 'move': {
      const start = b.length
      b.u16(ofpatCopyField).u16(0).u16(a.src.hi - a.src.lo + 1).u16(a.src.lo).u16(a.dst.lo).zeros(2)
      b.u32(fieldHeader(a.src.field, 'oxm')).u32(fieldHeader(a.dst.field, 'oxm'))
      b.pad8(start)
      b.setU16(start + 2, b.length - start)
      return
    }
    case 'push':
    case 'pop':
      experimenter(b, a.type === 'push' ? nxastStackPush : nxastStackPop, (x) =>
        x.u16(a.field.lo).u32(fieldHeader(a.field.field, 'nxm')).u16(a.field.hi - a.field.lo + 1),
      )
      return
    case 'resubmit':
      experimenter(b, nxastResubmitTable, (x) => x.u16(ofppInPort).u8(a.table))
      return
    case 'controller':
      if (a.meterId !== undefined) throw new ActionEncodingError('Cannot encode a metered controller action inside a nested action')
      experimenter(b, nxastController2, (x) => {
        x.zeros(6)
        const prop = x.length
        x.u16(nxac2ptUserdata).u16(4 + a.userdata.length).raw(a.userdata).pad8(prop)
        if (a.pause) x.u16(nxac2ptPause).u16(4).zeros(4)
      })
      return
    default:
      throw new ActionEncodingError(`Cannot encode "${formatOfAction(a)}" inside a nested action: only set_field, move, push, pop, resubmit and controller are supported`)
  }
}

/** OpenFlow 1.5 wire encoding of actions (for userdata of nested OVN actions). */
export function encodeOfActions(actions: readonly OfAction[]): Uint8Array {
  const b = new ByteWriter()
  for (const a of actions) encodeOne(b, a)
  return b.bytes()
}

/** Helper for building controller userdata: an OVN opcode header (4-byte opcode, 4 bytes of zeros) and a body. */
export function controllerUserdata(opcode: number, body: Uint8Array = new Uint8Array()): Uint8Array {
  return new ByteWriter().u32(opcode).zeros(4).raw(body).bytes()
}
