import assert from 'node:assert/strict'
import {diffFlows, formatFlow, parseFlow, parseFlows, type Flow} from '../../src/core/openflow/flow.js'
import {formatMatch, formatMatchAround, joinAround, parseMatchText, withField} from '../../src/core/openflow/match.js'
import {compiledFlows} from './compiled.js'

describe('OpenFlow flows as values', () => {
  it('parses back every flow text it prints, for all golden matches', () => {
    for (const f of compiledFlows()) {
      const text = formatFlow(f)
      const back = parseFlow(text)
      assert.equal(formatFlow(back), text, `round trip of ${JSON.stringify(text)}`)
    }
  })

  it('formats a match once around a hole for metadata and gives the same text as formatting each datapath\'s match', () => {
    let checked = 0
    for (const f of compiledFlows()) {
      const base = new Map(f.match)
      base.delete('metadata')
      const around = formatMatchAround(base, 'metadata')
      for (const key of [0n, 1n, 0xabcn, (1n << 24n) - 1n]) {
        const expected = formatMatch(withField(base, 'metadata', key))
        assert.equal(joinAround(around, 'metadata', key), expected, `match ${JSON.stringify(formatMatch(base))} on metadata ${key}`)
      }
      checked++
    }
    assert.ok(checked > 10, `only ${checked} golden matches checked`)
    assert.equal(joinAround(formatMatchAround(new Map(), 'metadata'), 'metadata', 5n), 'metadata=0x5')
    assert.throws(() => formatMatchAround(withField(new Map(), 'metadata', 1n), 'metadata'), /Cannot leave a hole for field "metadata"/)
  })

  it('reads ovs-ofctl dump-flows output, ignoring the header and statistics', () => {
    const dump = [
      'NXST_FLOW reply (xid=0x4):',
      ' cookie=0x3c4acda1, duration=1.5s, table=9, n_packets=0, n_bytes=0, idle_age=1, priority=100,tcp,metadata=0x1,nw_src=10.0.0.0/8,tp_dst=80 actions=resubmit(,11)',
      ' table=11, priority=100,tcp,metadata=0x1,tp_dst=8080 actions=conjunction(2459333589,2/2)',
      ' priority=0 actions=drop',
    ].join('\n')
    const flows = parseFlows(dump)
    assert.deepEqual(
      flows.map((f) => [f.table, f.priority, f.cookie, formatMatch(f.match), f.actions]),
      [
        [9, 100, 0x3c4acda1n, 'tcp,metadata=0x1,nw_src=10.0.0.0/8,tp_dst=80', 'resubmit(,11)'],
        [11, 100, 0n, 'tcp,metadata=0x1,tp_dst=8080', 'conjunction(2459333589,2/2)'],
        [0, 0, 0n, '', ''],
      ],
    )
  })

  it('splits wide registers into the 32-bit registers matches show, most significant first', () => {
    const m = withField(new Map(), 'xxreg0', 0x1n << 96n | 0x2n, 1n << 96n | 0xffn)
    assert.equal(formatMatch(m), 'reg0=0x1/0x1,reg3=0x2/0xff')
  })

  it('refuses contradictory constraints on one field', () => {
    assert.throws(() => withField(withField(new Map(), 'tp_dst', 80n), 'tp_dst', 443n), /Contradictory constraints on "tp_dst"/)
  })

  it('diffs two tables into adds, deletes and modifies by table, priority and match', () => {
    const flow = (table: number, match: string, actions: string): Flow => ({table, priority: 100, cookie: 0n, match: parseMatchText(match), actions})
    const installed = [flow(8, 'ip', 'resubmit(,9)'), flow(8, 'ipv6', 'drop'), flow(9, 'tcp,tp_dst=80', 'resubmit(,10)')]
    const desired = [flow(8, 'ip', 'resubmit(,9)'), flow(9, 'tcp,tp_dst=80', 'resubmit(,11)'), flow(9, 'udp', 'resubmit(,10)')]
    const d = diffFlows(installed, desired)
    assert.deepEqual(d.adds.map(formatFlow), ['table=9, priority=100,udp actions=resubmit(,10)'])
    assert.deepEqual(d.deletes.map(formatFlow), ['table=8, priority=100,ipv6 actions=drop'])
    assert.deepEqual(d.modifies.map((m) => [m.from.actions, m.to.actions]), [['resubmit(,10)', 'resubmit(,11)']])
  })
})
