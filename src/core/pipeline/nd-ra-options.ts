/**
 * The userdata of `put_nd_ra_opts` (ovn-sb(5)): an ICMPv6 Router Advertisement skeleton (RFC 4861 §4.2) whose
 * flags come from `addr_mode`, followed by the options in the order written: source link-layer address
 * (RFC 4861 §4.6.1), prefix information (§4.6.2) and MTU (§4.6.4). ovn-controller completes the packet.
 */
import type {OptionValue} from './actions.js'
import {EncodeError} from './errors.js'
import {ByteWriter} from '../openflow/actions.js'

/** RA "M" and "O" flags and the prefix option's "L" and "A" flags per address mode (ovn-nb(5) ipv6_ra_configs). */
const addrModes: Record<string, {raFlags: number; prefixFlags: number}> = {
  slaac: {raFlags: 0x00, prefixFlags: 0xc0},
  dhcpv6_stateful: {raFlags: 0x80, prefixFlags: 0x80},
  dhcpv6_stateless: {raFlags: 0x40, prefixFlags: 0xc0},
}

const preferences: Record<string, number> = {HIGH: 0x08, MEDIUM: 0x00, LOW: 0x18}

function single(o: OptionValue): OptionValue['values'][number] {
  if (o.values.length !== 1) throw new EncodeError(`put_nd_ra_opts option "${o.name}" takes one value`)
  return o.values[0]
}

/** Encodes the RA skeleton and options. */
export function encodeNdRaOptions(options: readonly OptionValue[]): Uint8Array {
  const mode = options.find((o) => o.name === 'addr_mode')
  const modeName = mode ? single(mode) : undefined
  if (!modeName || modeName.kind !== 'string' || !addrModes[modeName.text]) {
    throw new EncodeError('put_nd_ra_opts needs addr_mode = "slaac", "dhcpv6_stateful" or "dhcpv6_stateless"')
  }
  const m = addrModes[modeName.text]
  let flags = m.raFlags
  const pref = options.find((o) => o.name === 'router_preference')
  if (pref) {
    const p = single(pref)
    if (p.kind !== 'string' || preferences[p.text] === undefined) throw new EncodeError('router_preference must be "HIGH", "MEDIUM" or "LOW"')
    flags |= preferences[p.text]
  }
  const w = new ByteWriter()
  // Type 134, code 0, checksum 0, hop limit 255, flags, router lifetime 0xffff, reachable 0, retrans 0.
  w.u8(134).u8(0).u16(0).u8(255).u8(flags).u16(0xffff).u32(0).u32(0)
  for (const o of options) {
    if (o.name === 'addr_mode' || o.name === 'router_preference') continue
    const v = single(o)
    if (v.kind !== 'int') throw new EncodeError(`put_nd_ra_opts option "${o.name}" needs an address or a number`)
    switch (o.name) {
      case 'slla':
        w.u8(1).u8(1).big(v.value, 6)
        break
      case 'prefix': {
        const mask = v.mask ?? (1n << 128n) - 1n
        const len = mask === 0n ? 0 : mask.toString(2).replace(/0+$/, '').length
        w.u8(3).u8(4).u8(len).u8(m.prefixFlags).u32(0xffffffff).u32(0xffffffff).u32(0).big(v.value, 16)
        break
      }
      case 'mtu':
        w.u8(5).u8(1).u16(0).u32(Number(v.value))
        break
      default:
        throw new EncodeError(`Cannot encode put_nd_ra_opts option "${o.name}": not supported`)
    }
  }
  return w.bytes()
}
