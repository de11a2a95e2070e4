/** A fixed action compilation context: switch ports lsp1=1, lsp2=2, sw-lr=3; router port lr-sw=1; two meters. */
import {parseActions} from '../../src/core/pipeline/actions-parser.js'
import {formatActions} from '../../src/core/pipeline/actions.js'
import {encodeActions, type ActionContext} from '../../src/core/pipeline/actions-encode.js'
import {actionPrereqs} from '../../src/core/pipeline/actions-prereqs.js'
import {formatExpr} from '../../src/core/pipeline/expr.js'
import {ovnSymbolTable} from '../../src/core/pipeline/symbols.js'

/** One golden action case: defaults are the ingress pipeline, logical table 10, a switch, match "1". */
export interface ActionCase {
  actions: string
  match?: string
  pipeline?: 'ingress' | 'egress'
  table?: number
  datapath?: 'switch' | 'router'
}

const ports = {switch: {lsp1: 1, lsp2: 2, 'sw-lr': 3}, router: {'lr-sw': 1}} as Record<string, Record<string, number>>
const meters: Record<string, number> = {'acl-meter': 7, m1: 2}
const symtab = ovnSymbolTable()

/** The context of a case. */
export function actionContext(c: ActionCase): ActionContext {
  const datapath = c.datapath ?? 'switch'
  return {
    symtab,
    pipeline: c.pipeline ?? 'ingress',
    tableId: c.table ?? 10,
    datapath,
    lookupPort: (name) => ports[datapath][name],
    lookupMeter: (name) => meters[name],
  }
}

/** Error text as the goldens show it: class name and message. */
export function errorText(e: unknown): string {
  return `${(e as Error).name}: ${(e as Error).message}`
}

/** Every stage of compiling one action list, as printable values. */
export function actionStages(c: ActionCase): Record<string, unknown> {
  const ctx = actionContext(c)
  let actions
  try {
    actions = parseActions(c.actions, ctx.symtab)
  } catch (e) {
    return {...c, error: errorText(e)}
  }
  const prereqs = actionPrereqs(actions, ctx.symtab)
  const out: Record<string, unknown> = {...c, parse: formatActions(actions), prereqs: prereqs ? formatExpr(prereqs) : null}
  try {
    const e = encodeActions(actions, ctx)
    out.flows = e.ofActions
    if (e.groups.length > 0) out.groups = e.groups.map((g) => g.text)
    if (e.meters.length > 0) out.meters = e.meters.map((m) => m.text)
  } catch (e) {
    out.flows = errorText(e)
  }
  return out
}
