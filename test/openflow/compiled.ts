/** The flows compiled from the pipeline's golden matches, as test input for the OpenFlow layer. */
import fs from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {annotate, parseExpr} from '../../src/core/pipeline/annotate.js'
import {toMatches} from '../../src/core/pipeline/matches.js'
import {withField} from '../../src/core/openflow/match.js'
import type {Flow} from '../../src/core/openflow/flow.js'
import {testContext} from '../pipeline/context.js'

const inputs = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'pipeline', 'golden', 'exprs.input.json')

/** One flow per match (table 8, metadata 0x1, as for logical table 0 of datapath 1), conjunctions included. */
export function compiledFlows(): Flow[] {
  const ctx = testContext()
  const flows: Flow[] = []
  for (const text of JSON.parse(fs.readFileSync(inputs, 'utf8')) as string[]) {
    const r = toMatches(annotate(parseExpr(text, ctx.symtab), ctx.symtab, ctx), ctx)
    const meta = (m: Flow['match']) => withField(m, 'metadata', 1n)
    for (const m of r.matches) flows.push({table: 8, priority: 100, cookie: 0x1234n, match: meta(m), actions: 'resubmit(,9)'})
    for (const c of r.conjunctions) {
      flows.push({table: 8, priority: 100, cookie: 0x1234n, match: meta(c.match), actions: 'resubmit(,9)'})
      for (const cl of c.clauses) flows.push({table: 8, priority: 100, cookie: 0n, match: meta(cl.match), actions: `conjunction(${c.id},${cl.k}/${cl.n})`})
    }
  }
  return flows
}
