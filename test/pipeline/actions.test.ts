import assert from 'node:assert/strict'
import {parseActions} from '../../src/core/pipeline/actions-parser.js'
import {formatActions} from '../../src/core/pipeline/actions.js'
import {encodeActions} from '../../src/core/pipeline/actions-encode.js'
import {actionPrereqs} from '../../src/core/pipeline/actions-prereqs.js'
import {formatExpr} from '../../src/core/pipeline/expr.js'
import {ovnSymbolTable} from '../../src/core/pipeline/symbols.js'
import {actionContext, actionStages, errorText, type ActionCase} from './actions-context.js'
import {checkGolden, readInput} from './golden.js'

const symtab = ovnSymbolTable()

function errorOf(text: string): string {
  try {
    parseActions(text, symtab)
  } catch (e) {
    return errorText(e)
  }
  return 'no error'
}

/** A case recorded from the real ovn-controller 23.03 (ovnController null: it rejected the actions). */
interface OvnCase extends ActionCase {
  ovnController: string | null
  group?: string
}

/** Cases whose encoding differs from what ovn-controller installed (ids of groups and meters aside). */
function compareWithOvn(cases: OvnCase[], contextOf: (c: ActionCase) => ReturnType<typeof actionContext>): string[] {
  // Full-width writes of ip_dscp and nw_ecn: ovs-ofctl shows a mask it cannot parse back; we print none.
  const norm = (s: string) => s.replace(/\/0x3f->ip_dscp/g, '->ip_dscp').replace(/\/0x3->nw_ecn/g, '->nw_ecn').replace(/group:\d+/g, 'group:G').replace(/meter:\d+/g, 'meter:M')
  const failures: string[] = []
  for (const c of cases) {
    let ours: string
    let group: string | undefined
    try {
      const e = encodeActions(parseActions(c.actions, symtab), contextOf(c))
      ours = e.ofActions
      group = e.groups[0]?.text.replace(/^group_id=\d+,/, '')
    } catch (e) {
      ours = `rejected (${errorText(e)})`
    }
    const expected = c.ovnController === null ? 'rejected' : c.ovnController
    const same = c.ovnController === null ? ours.startsWith('rejected') : norm(ours) === norm(expected) && group === c.group
    if (!same) failures.push(`${c.datapath} ${c.pipeline} ${c.table} ${c.actions}\n  expected ${expected} ${c.group ?? ''}\n  actual   ${ours} ${group ?? ''}`)
  }
  return failures
}

describe('logical flow actions', () => {
  it('parses, prints, reports prerequisites of and encodes each golden action list', () => {
    checkGolden('actions', readInput<ActionCase[]>('actions').map(actionStages))
  })

  it('prints every golden action list in a canonical form that parses back to itself', () => {
    for (const c of readInput<ActionCase[]>('actions')) {
      const once = formatActions(parseActions(c.actions, symtab))
      const twice = formatActions(parseActions(once, symtab))
      assert.equal(twice, once, `input ${JSON.stringify(c.actions)}`)
    }
  })

  it('rejects malformed or ill-typed actions with the column or the rule broken', () => {
    checkGolden('action-errors', readInput<string[]>('action-errors').map((text) => ({actions: text, error: errorOf(text)})))
  })

  it('refuses to encode what it cannot express, naming the problem', () => {
    const out = readInput<ActionCase[]>('action-encode-errors').map(actionStages)
    for (const o of out) assert.match(String(o.flows ?? o.error), /Error: /, `expected an error for ${JSON.stringify(o.actions)}`)
    checkGolden('action-encode-errors', out)
  })

  it('encodes every action exactly as the real ovn-controller 23.03 installed it', () => {
    assert.deepEqual(compareWithOvn(readInput<OvnCase[]>('actions-ovn'), actionContext), [])
  })

  it('encodes the actions of a real ovn-northd 23.03 topology as ovn-controller installed them', () => {
    const doc = readInput<{ports: Record<string, number>; meters: Record<string, number>; flows: OvnCase[]}>('actions-northd')
    // ovn-controller 23.03 loses a ct_commit that is not the first action (its encoder assumes it starts the
    // buffer): "log(...); ct_commit { ... }; reject { ... };" is installed without the ct(). We encode it.
    const known = (c: OvnCase) => parseActions(c.actions, symtab).findIndex((a) => a.type === 'ct_commit') > 0
    const flows = doc.flows.filter((c) => !known(c))
    assert.ok(flows.length > 200, `only ${flows.length} flows recorded`)
    const ctx = (c: ActionCase) => ({...actionContext(c), lookupPort: (n: string) => doc.ports[n], lookupMeter: (n: string) => doc.meters[n]})
    assert.deepEqual(compareWithOvn(flows, ctx), [])
  })

  it('adds the prerequisites of assigned fields but not those of fields in nested actions', () => {
    const prereqs = (text: string) => {
      const p = actionPrereqs(parseActions(text, symtab), symtab)
      return p ? formatExpr(p) : null
    }
    assert.equal(prereqs('tcp.dst = 80; ip.ttl--;'), 'tcp && ip')
    assert.equal(prereqs('arp { tcp.dst = 80; output; };'), 'ip4')
    assert.equal(prereqs('outport = "lsp1"; output;'), null)
  })

  it('turns a port name into its tunnel key and refuses an unknown one', () => {
    const ctx = actionContext({actions: ''})
    assert.equal(encodeActions(parseActions('outport = "lsp2";', symtab), ctx).ofActions, 'set_field:0x2->reg15')
    assert.throws(() => encodeActions(parseActions('outport = "ghost";', symtab), ctx), /Unknown logical port "ghost"/)
  })

  it('numbers groups through the allocator it is given, one id per distinct group', () => {
    const ids = new Map<string, number>()
    const ctx = {...actionContext({actions: ''}), allocateGroupId: (spec: string) => ids.get(spec) ?? (ids.set(spec, 100 + ids.size), 100 + ids.size - 1)}
    const a = encodeActions(parseActions('ct_lb(backends=10.0.0.1:80);', symtab), ctx)
    const b = encodeActions(parseActions('ct_lb(backends=10.0.0.1:80);', symtab), ctx)
    const c = encodeActions(parseActions('ct_lb(backends=10.0.0.2:80);', symtab), ctx)
    assert.deepEqual([a.ofActions, b.ofActions, c.ofActions], ['group:100', 'group:100', 'group:101'])
  })
})
