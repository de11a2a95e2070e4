import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {annotate} from '../../src/core/pipeline/annotate.js'
import {parseActions} from '../../src/core/pipeline/actions-parser.js'
import {encodeActions} from '../../src/core/pipeline/actions-encode.js'
import {actionPrereqs} from '../../src/core/pipeline/actions-prereqs.js'
import {and} from '../../src/core/pipeline/expr.js'
import {toMatches} from '../../src/core/pipeline/matches.js'
import {parseMatch} from '../../src/core/pipeline/parser.js'
import {formatMatch} from '../../src/core/openflow/match.js'
import {actionContext, type ActionCase} from '../pipeline/actions-context.js'
import {testContext} from '../pipeline/context.js'
import {readInput} from '../pipeline/golden.js'
import {hasOvsOfctl, parseFlowsWithOfctl} from './ofctl.js'

/** One OpenFlow flow per golden action list: its match with the actions' prerequisites, and its actions. */
function encodedFlows(): Array<{input: string; flow: string; actions: string; groups: string[]}> {
  const mctx = testContext()
  const out = []
  for (const c of readInput<ActionCase[]>('actions')) {
    const ctx = actionContext(c)
    let encoded
    const actions = parseActions(c.actions, ctx.symtab)
    try {
      encoded = encodeActions(actions, ctx)
    } catch {
      continue // encoding errors are covered by the pipeline goldens
    }
    const prereqs = actionPrereqs(actions, ctx.symtab)
    const match = and([parseMatch(c.match ?? '1'), ...(prereqs ? [prereqs] : [])])
    const result = toMatches(annotate(match, mctx.symtab, mctx), mctx)
    assert.ok(result.matches.length > 0, `no match for ${c.actions}`)
    const m = formatMatch(result.matches[0])
    out.push({input: c.actions, flow: `table=0,${m ? m + ',' : ''}actions=${encoded.ofActions}`, actions: encoded.ofActions, groups: encoded.groups.map((g) => g.text)})
  }
  return out
}

describe('encoded actions, checked by the real ovs-ofctl', function () {
  before(function () {
    if (!hasOvsOfctl()) this.skip()
  })

  it('parses every encoded action list of the goldens and prints it back exactly as we do', () => {
    const flows = encodedFlows()
    const printed = parseFlowsWithOfctl(flows.map((f) => f.flow))
    assert.equal(printed.length, flows.length, 'one FLOW_MOD per flow')
    printed.forEach((line, i) => {
      const actions = line.slice(line.indexOf(' actions=') + ' actions='.length)
      // ovn-controller installs dec_ttl with an empty controller-id list, which the switch prints as
      // "dec_ttl()"; typed as text, "dec_ttl()" parses to the plain form, printed "dec_ttl".
      assert.equal(actions, flows[i].actions.replaceAll('dec_ttl()', 'dec_ttl'), `actions ${JSON.stringify(flows[i].input)} as flow ${flows[i].flow}`)
    })
  })

  it('parses every select group the goldens produce and prints it back exactly as we do', () => {
    const groups = encodedFlows().flatMap((f) => f.groups.map((g) => ({input: f.input, group: g})))
    assert.ok(groups.length > 0, 'the goldens produce groups')
    for (const {input, group} of groups) {
      const out = execFileSync('ovs-ofctl', ['-O', 'OpenFlow15', 'parse-group', group], {encoding: 'utf8'})
      const printed = out.split('\n').map((l) => l.trim()).find((l) => l.startsWith('ADD '))
      assert.equal(printed, `ADD ${group}`, `group of ${JSON.stringify(input)}`)
    }
  })
})
