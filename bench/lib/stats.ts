/** Small statistics and reporting helpers shared by the benchmarks. */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** The q-quantile (0..1) of a list of numbers. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const at = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[at]
}

/** The median of a list of numbers. */
export function median(values: number[]): number {
  return quantile(values, 0.5)
}

/** One measured figure for both peers: the median over rounds, and ours divided by theirs. */
export interface Comparison {
  metric: string
  unit: string
  ovnctl: number
  real: number
  /** Which direction is better, to say whether the target is met. */
  better: 'lower' | 'higher'
  target?: string
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n)
  if (Math.abs(n) >= 100) return n.toFixed(0)
  if (Math.abs(n) >= 10) return n.toFixed(1)
  return n.toFixed(3)
}

/** Prints a comparison table (stdout: this is the benchmark's data). */
export function report(title: string, rows: Comparison[], rounds: number, peer = 'ovsdb-server'): void {
  const lines = [`\n## ${title} (median of ${rounds} rounds)`, '', `| metric | ovnctl | ${peer} | ratio ovnctl/real | target |`, '|---|---|---|---|---|']
  for (const r of rows) {
    const ratio = r.ovnctl / r.real
    lines.push(`| ${r.metric} (${r.unit}) | ${fmt(r.ovnctl)} | ${fmt(r.real)} | ${fmt(ratio)} | ${r.target ?? ''} |`)
  }
  console.log(lines.join('\n'))
}

/** What one round measured, for each peer: figures by key. */
export interface RoundResult {
  ovnctl: Record<string, number>
  real: Record<string, number>
}

/**
 * Runs `round` `rounds` times with a temporary directory that `setup` may fill first, and removes the directory
 * afterwards whatever happens; progress goes to stderr.
 */
export async function runRounds<C>(
  rounds: number,
  setup: (dir: string) => C | Promise<C>,
  round: (dir: string, context: C) => Promise<RoundResult>,
): Promise<RoundResult[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-bench-'))
  const results: RoundResult[] = []
  try {
    const context = await setup(dir)
    for (let i = 0; i < rounds; i++) {
      results.push(await round(dir, context))
      console.error(`round ${i + 1}/${rounds} done`)
    }
  } finally {
    fs.rmSync(dir, {recursive: true, force: true})
  }
  return results
}

/** The comparison rows of `rows` (each naming its figure by `key`), as medians over the rounds; rows not measured are left out. */
export function medianRows(results: RoundResult[], rows: (Omit<Comparison, 'ovnctl' | 'real'> & {key: string})[]): Comparison[] {
  const med = (who: 'ovnctl' | 'real', key: string) => median(results.map((r) => r[who][key]))
  return rows
    .map(({key, ...r}) => ({...r, ovnctl: med('ovnctl', key), real: med('real', key)}))
    .filter((r) => Number.isFinite(r.ovnctl))
}
