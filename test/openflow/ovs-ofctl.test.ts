import assert from 'node:assert/strict'
import {formatFlowForAdd} from '../../src/core/openflow/flow.js'
import {formatMatch} from '../../src/core/openflow/match.js'
import {compiledFlows} from './compiled.js'
import {hasOvsOfctl, parseFlowsWithOfctl} from './ofctl.js'

describe('emitted flows, checked by the real ovs-ofctl', function () {
  before(function () {
    if (!hasOvsOfctl()) this.skip()
  })

  it('parses every emitted flow and prints each match exactly as we do', () => {
    const flows = compiledFlows()
    const printed = parseFlowsWithOfctl(flows.map(formatFlowForAdd))
    assert.equal(printed.length, flows.length, 'one FLOW_MOD per flow')
    printed.forEach((line, i) => {
      const m = /priority=\d+,?(\S*)(?: cookie:\S+)? actions=/.exec(line)
      assert.ok(m, `unexpected ovs-ofctl output ${JSON.stringify(line)}`)
      assert.equal(formatMatch(flows[i].match), m[1], `flow ${formatFlowForAdd(flows[i])}`)
    })
  })
})
