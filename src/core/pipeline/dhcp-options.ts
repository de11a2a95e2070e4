/**
 * The DHCP options `put_dhcp_opts` and `put_dhcpv6_opts` accept and their encoding in the controller action's
 * userdata (ovn-sb(5) "put_dhcp_opts", the DHCP_Options and DHCPv6_Options tables). The default tables are the
 * rows ovn-northd 23.03 writes into those tables; DHCPv4 options are RFC 2132 code/length/value triples with
 * `offerip` first and bare, DHCPv6 options RFC 8415 16-bit code/length/value triples.
 */
import {EncodeError} from './errors.js'
import type {OptionValue} from './actions.js'
import type {Constant} from './expr.js'
import {ByteWriter} from '../openflow/actions.js'

/** Value types of the DHCP_Options and DHCPv6_Options tables (ovn-sb(5)). */
export type DhcpOptionType = 'ipv4' | 'ipv6' | 'str' | 'uint8' | 'uint16' | 'uint32' | 'bool' | 'static_routes' | 'domains' | 'host_id' | 'mac'

/** Option name → [code, type]. */
export type DhcpOptionTable = ReadonlyMap<string, readonly [number, DhcpOptionType]>

/** DHCP_Options as ovn-northd 23.03 fills it. */
export const defaultDhcpOptions: DhcpOptionTable = new Map<string, readonly [number, DhcpOptionType]>([
  ['offerip', [0, 'ipv4']], ['netmask', [1, 'ipv4']], ['router', [3, 'ipv4']], ['dns_server', [6, 'ipv4']],
  ['log_server', [7, 'ipv4']], ['lpr_server', [9, 'ipv4']], ['hostname', [12, 'str']], ['domain_name', [15, 'str']],
  ['swap_server', [16, 'ipv4']], ['ip_forward_enable', [19, 'bool']], ['policy_filter', [21, 'ipv4']],
  ['default_ttl', [23, 'uint8']], ['mtu', [26, 'uint16']], ['broadcast_address', [28, 'ipv4']],
  ['router_discovery', [31, 'bool']], ['router_solicitation', [32, 'ipv4']], ['arp_cache_timeout', [35, 'uint32']],
  ['ethernet_encap', [36, 'bool']], ['tcp_ttl', [37, 'uint8']], ['tcp_keepalive_interval', [38, 'uint32']],
  ['nis_server', [41, 'ipv4']], ['ntp_server', [42, 'ipv4']], ['netbios_name_server', [44, 'ipv4']],
  ['netbios_node_type', [46, 'uint8']], ['lease_time', [51, 'uint32']], ['server_id', [54, 'ipv4']],
  ['T1', [58, 'uint32']], ['T2', [59, 'uint32']], ['tftp_server', [66, 'host_id']], ['bootfile_name', [67, 'str']],
  ['domain_search_list', [119, 'domains']], ['classless_static_route', [121, 'static_routes']],
  ['tftp_server_address', [150, 'ipv4']], ['path_prefix', [210, 'str']], ['ms_classless_static_route', [249, 'static_routes']],
  ['wpad', [252, 'str']], ['next_server', [253, 'ipv4']], ['bootfile_name_alt', [254, 'str']],
])

/** DHCPv6_Options as ovn-northd 23.03 fills it. */
export const defaultDhcpv6Options: DhcpOptionTable = new Map<string, readonly [number, DhcpOptionType]>([
  ['server_id', [2, 'mac']], ['ia_addr', [5, 'ipv6']], ['dns_server', [23, 'ipv6']], ['domain_search', [24, 'str']],
])

const utf8 = new TextEncoder()

function int(c: Constant, what: string): Extract<Constant, {kind: 'int'}> {
  if (c.kind !== 'int') throw new EncodeError(`DHCP option ${what} needs an integer or address, not ${JSON.stringify(c.text)}`)
  return c
}

function str(c: Constant, what: string): string {
  if (c.kind !== 'string') throw new EncodeError(`DHCP option ${what} needs a string`)
  return c.text
}

/** RFC 1035 §4.1.4 name encoding with compression pointers to suffixes already written (RFC 3397). */
function encodeDomains(list: string): Uint8Array {
  const w = new ByteWriter()
  const seen = new Map<string, number>()
  for (const domain of list.split(',').map((d) => d.trim()).filter((d) => d !== '')) {
    const labels = domain.split('.').filter((l) => l !== '')
    let i = 0
    for (; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.')
      const at = seen.get(suffix)
      if (at !== undefined) {
        w.u16(0xc000 | at)
        break
      }
      seen.set(suffix, w.length)
      const bytes = utf8.encode(labels[i])
      w.u8(bytes.length).raw(bytes)
    }
    if (i === labels.length) w.u8(0)
  }
  return w.bytes()
}

function encodeValue(type: DhcpOptionType, o: OptionValue): Uint8Array {
  const w = new ByteWriter()
  for (const c of o.values) {
    switch (type) {
      case 'ipv4':
        w.big(int(c, o.name).value, 4)
        break
      case 'ipv6':
        w.big(int(c, o.name).value, 16)
        break
      case 'mac':
        w.big(int(c, o.name).value, 6)
        break
      case 'uint8':
      case 'bool':
        w.u8(Number(int(c, o.name).value))
        break
      case 'uint16':
        w.u16(Number(int(c, o.name).value))
        break
      case 'uint32':
        w.u32(Number(int(c, o.name).value))
        break
      case 'str':
        w.raw(utf8.encode(str(c, o.name)))
        break
      case 'host_id':
        if (c.kind === 'string') w.raw(utf8.encode(c.text))
        else w.big(c.value, 4)
        break
      case 'domains':
        w.raw(encodeDomains(str(c, o.name)))
        break
      case 'static_routes':
        return encodeStaticRoutes(o)
    }
  }
  return w.bytes()
}

/** RFC 3442: for each route, prefix length, the significant octets of the destination, then the router. */
function encodeStaticRoutes(o: OptionValue): Uint8Array {
  const w = new ByteWriter()
  if (o.values.length % 2 !== 0) throw new EncodeError(`DHCP option ${o.name} needs pairs of network and router`)
  for (let i = 0; i < o.values.length; i += 2) {
    const net = int(o.values[i], o.name)
    const router = int(o.values[i + 1], o.name)
    const mask = net.mask ?? 0xffffffffn
    const plen = mask.toString(2).replace(/0+$/, '').length * (mask === 0n ? 0 : 1)
    w.u8(plen)
    w.big(net.value >> BigInt(32 - Math.ceil(plen / 8) * 8), Math.ceil(plen / 8))
    w.big(router.value, 4)
  }
  return w.bytes()
}

function lookup(table: DhcpOptionTable, name: string, v6: boolean): readonly [number, DhcpOptionType] {
  const entry = table.get(name)
  if (!entry) throw new EncodeError(`Unknown ${v6 ? 'DHCPv6' : 'DHCP'} option "${name}"`)
  return entry
}

/** The options part of put_dhcp_opts userdata: offerip's 4 bytes first, then code/length/value per option. */
export function encodeDhcpOptions(options: readonly OptionValue[], table: DhcpOptionTable = defaultDhcpOptions): Uint8Array {
  const w = new ByteWriter()
  const offer = options.find((o) => o.name === 'offerip')
  if (!offer) throw new EncodeError('put_dhcp_opts needs an "offerip" option')
  w.raw(encodeValue('ipv4', offer))
  for (const o of options) {
    if (o === offer) continue
    const [code, type] = lookup(table, o.name, false)
    const value = encodeValue(type, o)
    if (value.length > 255) throw new EncodeError(`DHCP option "${o.name}" is ${value.length} bytes: at most 255`)
    w.u8(code).u8(value.length).raw(value)
  }
  return w.bytes()
}

/** The options part of put_dhcpv6_opts userdata: 16-bit code, 16-bit length, value, in the order written. */
export function encodeDhcpv6Options(options: readonly OptionValue[], table: DhcpOptionTable = defaultDhcpv6Options): Uint8Array {
  const w = new ByteWriter()
  for (const o of options) {
    const [code, type] = lookup(table, o.name, true)
    const value = encodeValue(type, o)
    w.u16(code).u16(value.length).raw(value)
  }
  return w.bytes()
}
