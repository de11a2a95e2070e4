/** Small statistics and reporting helpers shared by the benchmarks. */

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
