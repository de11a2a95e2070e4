#!/usr/bin/env node
// Installed entry point: runs the compiled commands in dist/.
import v8 from 'node:v8'

// db-serve keeps V8's young generation at its initial size (1 MiB semi-spaces) instead of letting it grow to 16 MiB:
// what survives a young collection in a server is mostly recent commits (the monitor_cond_since history, rows
// replaced since), and a collection's pause grows with the commits since the last one. Small, frequent collections
// pause ~0.3-0.5 ms where large ones paused 1-2 ms, so fewer commits meet one that stretches them: warm cluster
// commit p99 4.0 -> 2.3 ms, 500 conditional monitors p99 1.4 -> 0.9 ms, throughput unchanged (BENCHMARKS.md).
// Set before anything else loads, so that starting up has not grown it yet.
if (process.argv[2] === 'db-serve') v8.setFlagsFromString('--semi-space-growth-factor=1')

const {execute} = await import('@oclif/core')
await execute({dir: import.meta.url})
