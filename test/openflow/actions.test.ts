import assert from 'node:assert/strict'
import fc from 'fast-check'
import {encodeOfActions, formatOfActions, hexDots, type OfAction} from '../../src/core/openflow/actions.js'
import {fieldHeader, formatSetField} from '../../src/core/openflow/fields.js'

describe('OpenFlow actions', () => {
  it('prints set_field values and masks as ovs-ofctl does', () => {
    const cases: Array<[string, bigint, bigint | undefined, string]> = [
      ['reg14', 0n, undefined, 'set_field:0->reg14'],
      ['reg0', 16n, undefined, 'set_field:0x10->reg0'],
      ['reg10', 1n, 1n, 'set_field:0x1/0x1->reg10'],
      ['eth_src', 1n, undefined, 'set_field:00:00:00:00:00:01->eth_src'],
      ['ip_src', 0x0a000000n, 0xff00ff00n, 'set_field:10.0.0.0/255.0.255.0->ip_src'],
      ['ipv6_src', 0xfe80n << 112n, ((1n << 64n) - 1n) << 64n, 'set_field:fe80::/64->ipv6_src'],
      ['tcp_src', 1n, 1n, 'set_field:1/0x1->tcp_src'],
      ['ipv6_label', 5n, 0xfffffn, 'set_field:0x5/0xfffff->ipv6_label'],
      ['ip_dscp', 10n, 0x3fn, 'set_field:10->ip_dscp'],
      ['vlan_tci', 0x8000n, 0xe000n, 'set_field:0x8000/0xe000->vlan_tci'],
    ]
    for (const [field, value, mask, text] of cases) assert.equal(formatSetField(field, value, mask), text, `${field} ${value}/${mask}`)
  })

  it('encodes nested actions byte for byte as ovn-controller 23.03 does', () => {
    // arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.spa = 10.0.0.1; arp.tpa = 10.0.0.2; arp.op = 1; output; } (ingress)
    const actions: OfAction[] = [
      {type: 'set_field', field: 'eth_dst', value: 0xffffffffffffn},
      {type: 'set_field', field: 'arp_spa', value: 0x0a000001n},
      {type: 'set_field', field: 'arp_tpa', value: 0x0a000002n},
      {type: 'set_field', field: 'arp_op', value: 1n},
      {type: 'resubmit', table: 37},
    ]
    assert.equal(
      hexDots(encodeOfActions(actions)),
      '00.19.00.10.80.00.06.06.ff.ff.ff.ff.ff.ff.00.00.00.19.00.10.80.00.2c.04.0a.00.00.01.00.00.00.00.00.19.00.10.80.00.2e.04.0a.00.00.02.00.00.00.00.00.19.00.10.80.00.2a.02.00.01.00.00.00.00.00.00.ff.ff.00.10.00.00.23.20.00.0e.ff.f8.25.00.00.00',
    )
    // reg0[0..1] <-> reg9[3..4] inside a nested action: NXM headers for the stack, OXM where NXM has none.
    const swap: OfAction[] = [{type: 'push', field: {field: 'xreg4', lo: 3, hi: 4}}, {type: 'pop', field: {field: 'xxreg0', lo: 96, hi: 97}}]
    assert.equal(
      hexDots(encodeOfActions(swap)),
      'ff.ff.00.18.00.00.23.20.00.1b.00.03.80.01.08.08.00.02.00.00.00.00.00.00.ff.ff.00.18.00.00.23.20.00.1c.00.60.00.01.de.10.00.02.00.00.00.00.00.00',
    )
  })

  it('keeps every encoded action a multiple of 8 bytes long, with its length in its header', () => {
    const fields = ['eth_src', 'ip_dst', 'ipv6_dst', 'reg3', 'xreg4', 'xxreg1', 'tcp_dst', 'nd_sll', 'vlan_tci', 'pkt_mark']
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.bigInt({min: 0n, max: (1n << 128n) - 1n}), fc.boolean(), (field, v, masked) => {
        const a: OfAction = {type: 'set_field', field, value: v, mask: masked ? 1n : undefined}
        const bytes = encodeOfActions([a])
        const declared = (bytes[2] << 8) | bytes[3]
        return bytes.length % 8 === 0 && declared === bytes.length
      }),
    )
  })

  it('names the OXM header of a field and its masked form', () => {
    assert.equal(fieldHeader('eth_dst', 'oxm').toString(16), '80000606')
    assert.equal(fieldHeader('eth_dst', 'nxm').toString(16), '206')
    assert.equal(fieldHeader('xxreg0', 'oxm', true).toString(16), '1df20')
  })

  it('prints an empty action list as drop', () => {
    assert.equal(formatOfActions([]), 'drop')
  })
})
