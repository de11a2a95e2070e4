import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {formatFlowForAdd} from '../../src/core/openflow/flow.js'
import {formatMatch} from '../../src/core/openflow/match.js'
import {compiledFlows} from './compiled.js'

function hasOvsOfctl(): boolean {
  try {
    execFileSync('ovs-ofctl', ['--version'], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

describe('emitted flows, checked by the real ovs-ofctl', function () {
  before(function () {
    if (!hasOvsOfctl()) this.skip()
  })

  it('parses every emitted flow and prints each match exactly as we do', () => {
    const flows = compiledFlows()
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-'))
    try {
      const file = path.join(dir, 'flows.txt')
      fs.writeFileSync(file, flows.map(formatFlowForAdd).join('\n') + '\n')
      const out = execFileSync('ovs-ofctl', ['-O', 'OpenFlow15', 'parse-flows', file], {encoding: 'utf8'})
      const printed = out.split('\n').filter((l) => l.startsWith('OFPT_FLOW_MOD'))
      assert.equal(printed.length, flows.length, 'one FLOW_MOD per flow')
      printed.forEach((line, i) => {
        const m = /priority=\d+,?(\S*)(?: cookie:\S+)? actions=/.exec(line)
        assert.ok(m, `unexpected ovs-ofctl output ${JSON.stringify(line)}`)
        assert.equal(formatMatch(flows[i].match), m[1], `flow ${formatFlowForAdd(flows[i])}`)
      })
    } finally {
      fs.rmSync(dir, {recursive: true, force: true})
    }
  })
})
