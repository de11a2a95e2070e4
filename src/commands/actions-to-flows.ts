import {Args, Flags} from '@oclif/core'
import {OvnctlCommand} from '../core/cli/command.js'
import {failedError} from '../core/cli/exit.js'
import {outputFlags} from '../core/cli/flags.js'
import {selectedFormat} from '../core/cli/output.js'
import {parseActions} from '../core/pipeline/actions-parser.js'
import {formatActions} from '../core/pipeline/actions.js'
import {encodeActions, type ActionContext} from '../core/pipeline/actions-encode.js'
import {actionPrereqs} from '../core/pipeline/actions-prereqs.js'
import {diagnosticOf, type Diagnostic} from '../core/pipeline/diagnostic.js'
import {formatExpr} from '../core/pipeline/expr.js'
import {ovnSymbolTable} from '../core/pipeline/symbols.js'
import {printResults, readContext, readInputs} from './expr-to-flows.js'

const stages = ['parse', 'prereqs', 'flows'] as const

/** `ovnctl actions-to-flows`: logical flow actions compiled to OpenFlow actions. */
export default class ActionsToFlows extends OvnctlCommand<typeof ActionsToFlows> {
  static override summary = 'Compile logical flow actions (ovn-sb(5) Logical_Flow "actions") to OpenFlow actions.'
  static override description = `Each ACTIONS string is compiled as ovn-controller would for a flow in logical \
table --table of the --pipeline of a --datapath, and the result of --stage is printed: "parse" the canonical \
actions, "prereqs" the match the actions add to their flow ("1" for none), "flows" (default) the OpenFlow actions \
in ovs-ofctl syntax, followed by the groups (ct_lb, select) and meters (set_meter) they need, one per line, as \
ovs-ofctl dump-groups and dump-meters describe them.

Actions come from the arguments, or one list per line from stdin with "-" or when there are no arguments and stdin \
is not a terminal. Logical ports and named meters come from --context, a JSON file such as {"ports": {"lsp1": 1}, \
"meters": {"acl-meter": 1}}.

By default (--format table) the lines are printed as they are; json and ndjson print one record per action list, \
{"input", "stage", "output"} with "groups" and "meters" at the flows stage. Actions that do not compile (syntax, \
types, or nothing OpenFlow can express) are reported on stderr, with a caret under the column for syntax errors; \
the others are still printed and the command exits with status 1. A bad flag or context file is a usage error \
(status 2).`

  static override examples = [
    `<%= config.bin %> <%= command.id %> 'ip.ttl--; eth.src <-> eth.dst; next;'`,
    `<%= config.bin %> <%= command.id %> --datapath router --table 6 'ct_lb_mark(backends=10.0.0.2:80,10.0.0.3:80);'`,
    `<%= config.bin %> <%= command.id %> --stage prereqs 'tcp.dst = 8080; output;'`,
  ]

  static override strict = false

  static override args = {
    actions: Args.string({description: 'An action list ("-" reads them from stdin, one per line); more may follow.', ignoreStdin: true}),
  }

  static override flags = {
    stage: Flags.option({options: stages, default: 'flows' as const, summary: 'How far to compile: parse, prereqs or flows.'})(),
    pipeline: Flags.option({options: ['ingress', 'egress'] as const, default: 'ingress' as const, summary: 'The pipeline of the flow.'})(),
    table: Flags.integer({min: 0, max: 255, default: 0, summary: 'The logical table of the flow.'}),
    datapath: Flags.option({options: ['switch', 'router'] as const, default: 'switch' as const, summary: 'The kind of logical datapath (it picks the conntrack zones).'})(),
    context: Flags.string({summary: 'JSON file with ports and meters.', helpValue: 'FILE'}),
    ...outputFlags,
  }

  async run(): Promise<void> {
    const {argv} = await this.parse(ActionsToFlows)
    const inputs = readInputs(argv as string[])
    const context = readContext(this.flags.context)
    const ctx: ActionContext = {
      symtab: ovnSymbolTable(),
      pipeline: this.flags.pipeline,
      tableId: this.flags.table,
      datapath: this.flags.datapath,
      lookupPort: (name) => context.ports.get(name),
      lookupMeter: (name) => context.meters.get(name),
    }
    const records: Array<Record<string, unknown> & {output: string | string[]}> = []
    const failures: Diagnostic[] = []
    for (const input of inputs) {
      try {
        records.push({input, stage: this.flags.stage, ...compile(input, this.flags.stage, ctx)})
      } catch (err) {
        failures.push(diagnosticOf(input, err))
      }
    }
    printResults(records, failures, selectedFormat(this.flags), (r) => this.printRecords(r))
    if (failures.length > 0) throw failedError(`${failures.length} of ${inputs.length} action lists did not compile`)
  }
}

function compile(input: string, stage: (typeof stages)[number], ctx: ActionContext): {output: string; groups?: string[]; meters?: string[]; extra?: string[]} {
  const actions = parseActions(input, ctx.symtab)
  if (stage === 'parse') return {output: formatActions(actions)}
  if (stage === 'prereqs') {
    const p = actionPrereqs(actions, ctx.symtab)
    return {output: p ? formatExpr(p) : '1'}
  }
  const e = encodeActions(actions, ctx)
  const groups = e.groups.map((g) => g.text)
  const meters = e.meters.map((m) => m.text)
  return {output: e.ofActions, groups, meters, extra: [...groups, ...meters]}
}
