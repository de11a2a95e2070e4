import fs from 'node:fs'
import {Args, Flags} from '@oclif/core'
import {OvnctlCommand} from '../core/cli/command.js'
import {failedError, usageError} from '../core/cli/exit.js'
import {outputFlags} from '../core/cli/flags.js'
import {selectedFormat} from '../core/cli/output.js'
import {annotate, parseExpr} from '../core/pipeline/annotate.js'
import {CompileContextError, matchContextOf, parseCompileContext, type CompileContext} from '../core/pipeline/compile-context.js'
import {diagnosticOf, formatDiagnostic, type Diagnostic} from '../core/pipeline/diagnostic.js'
import {formatExpr} from '../core/pipeline/expr.js'
import {toMatches} from '../core/pipeline/matches.js'
import {simplify} from '../core/pipeline/simplify.js'
import {ovnSymbolTable} from '../core/pipeline/symbols.js'
import {formatMatch} from '../core/openflow/match.js'

const stages = ['parse', 'annotate', 'simplify', 'flows'] as const

/** `ovnctl expr-to-flows`: logical flow matches compiled to OpenFlow matches, stage by stage. */
export default class ExprToFlows extends OvnctlCommand<typeof ExprToFlows> {
  static override summary = 'Compile logical flow match expressions (ovn-sb(5) Logical_Flow "match") to OpenFlow matches.'
  static override description = `Each EXPR is compiled as ovn-controller would and the result of --stage is printed: \
"parse" the canonical expression, "annotate" the expression with the fields' prerequisites and predicates \
expanded, "simplify" its disjunctive normal form, "flows" (default) the OpenFlow matches in ovs-ofctl syntax, one \
per line. A match that needs a conjunctive match prints the flow that matches conj_id=ID and one line per clause, \
"MATCH actions=conjunction(ID,K/N)".

Expressions come from the arguments, or one per line from stdin with "-" or when there are no arguments and stdin \
is not a terminal. Port names, address sets, port groups and the ports resident on this chassis come from \
--context, a JSON file such as {"ports": {"lsp1": 1}, "addressSets": {"as1": ["10.0.0.1"]}, "portGroups": \
{"pg1": ["lsp1"]}, "chassisResident": ["lsp1"]}.

By default (--format table) the lines are printed as they are; json and ndjson print one record per expression, \
{"input", "stage", "output"}. An expression that does not compile is reported on stderr with a caret under the \
column at fault, the others are still printed, and the command exits with status 1; a bad flag or context file is \
a usage error (status 2).`

  static override examples = [
    `<%= config.bin %> <%= command.id %> 'ip4.src == 10.0.0.0/8 && tcp.dst == {80, 443}'`,
    `<%= config.bin %> <%= command.id %> --stage annotate 'tcp.dst == 80'`,
    `<%= config.bin %> <%= command.id %> --context ctx.json --format ndjson - < matches.txt`,
  ]

  static override strict = false

  static override args = {
    expr: Args.string({description: 'A match expression ("-" reads them from stdin, one per line); more may follow.', ignoreStdin: true}),
  }

  static override flags = {
    stage: Flags.option({options: stages, default: 'flows' as const, summary: 'How far to compile: parse, annotate, simplify or flows.'})(),
    context: Flags.string({summary: 'JSON file with ports, addressSets, portGroups and chassisResident.', helpValue: 'FILE'}),
    ...outputFlags,
  }

  async run(): Promise<void> {
    const {argv} = await this.parse(ExprToFlows)
    const inputs = readInputs(argv as string[])
    const context = readContext(this.flags.context)
    const symtab = ovnSymbolTable()
    const mctx = matchContextOf(context, symtab)
    const records: Array<{input: string; stage: string; output: string | string[]}> = []
    const failures: Diagnostic[] = []
    for (const input of inputs) {
      try {
        records.push({input, stage: this.flags.stage, output: compile(input, this.flags.stage, mctx)})
      } catch (err) {
        failures.push(diagnosticOf(input, err))
      }
    }
    printResults(records, failures, selectedFormat(this.flags), (r) => this.printRecords(r))
    if (failures.length > 0) throw failedError(`${failures.length} of ${inputs.length} expressions did not compile`)
  }
}

function compile(input: string, stage: (typeof stages)[number], mctx: ReturnType<typeof matchContextOf>): string | string[] {
  const parsed = parseExpr(input, mctx.symtab)
  if (stage === 'parse') return formatExpr(parsed)
  const annotated = annotate(parsed, mctx.symtab, mctx)
  if (stage === 'annotate') return formatExpr(annotated)
  if (stage === 'simplify') return formatExpr(simplify(annotated, mctx.symtab))
  const r = toMatches(annotated, mctx)
  const lines = r.matches.map(formatMatch)
  for (const c of r.conjunctions) {
    lines.push(formatMatch(c.match))
    for (const cl of c.clauses) {
      const m = formatMatch(cl.match)
      lines.push(`${m ? m + ' ' : ''}actions=conjunction(${c.id},${cl.k}/${cl.n})`)
    }
  }
  return lines
}

/** Inputs from argv, or stdin lines ("-", or no arguments with stdin not a terminal). Shared with actions-to-flows. */
export function readInputs(argv: readonly string[]): string[] {
  const fromStdin = argv.includes('-') || (argv.length === 0 && !process.stdin.isTTY)
  if (argv.length === 0 && !fromStdin) throw usageError('Nothing to compile: give it as arguments or on stdin')
  const out: string[] = []
  for (const a of argv) {
    if (a !== '-') out.push(a)
    else out.push(...fs.readFileSync(0, 'utf8').split('\n').filter((l) => l.trim() !== ''))
  }
  if (argv.length === 0) out.push(...fs.readFileSync(0, 'utf8').split('\n').filter((l) => l.trim() !== ''))
  return out
}

/** The --context file, checked (a usage error when it is unreadable or malformed). */
export function readContext(file: string | undefined): CompileContext {
  if (file === undefined) return parseCompileContext()
  let doc: unknown
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'))
  } catch (err) {
    throw usageError(`Cannot read context "${file}": ${(err as Error).message}`)
  }
  try {
    return parseCompileContext(doc)
  } catch (err) {
    if (err instanceof CompileContextError) throw usageError(`Cannot use context "${file}": ${err.message}`)
    throw err
  }
}

/** Prints records (plain lines for the table format) on stdout and diagnostics on stderr. */
export function printResults(
  records: Array<Record<string, unknown> & {output: string | string[]}>,
  failures: Diagnostic[],
  format: string,
  printRecords: (records: Array<Record<string, unknown>>) => void,
): void {
  if (format === 'table') {
    const lines = records.flatMap((r) => [...(Array.isArray(r.output) ? r.output : [r.output]), ...((r.extra as string[] | undefined) ?? [])])
    process.stdout.write(lines.map((l) => l + '\n').join(''))
  } else {
    printRecords(records.map(({extra: _extra, ...r}) => r) as Array<Record<string, unknown>>)
  }
  const json = format === 'json'
  for (const d of failures) process.stderr.write(json ? JSON.stringify({error: d}) + '\n' : formatDiagnostic(d, 'error: '))
}
