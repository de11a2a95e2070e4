#!/usr/bin/env node
// Runs every benchmark (bench/*.bench.ts) one after another, or those named on the command line
// (e.g. `npm run bench -- ovsdb-server`). Each compares ovnctl with the real peer in one run and prints
// a table of medians and ratios on stdout; progress goes to stderr.
import {spawnSync} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const dir = path.dirname(fileURLToPath(import.meta.url))
const wanted = process.argv.slice(2)
const benches = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort()
if (benches.length === 0) {
  console.error(`No benchmark matches ${JSON.stringify(wanted)}`)
  process.exit(2)
}
let failed = 0
for (const file of benches) {
  console.error(`# ${file}`)
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(dir, file)], {stdio: 'inherit'})
  if (r.status !== 0) failed++
}
process.exit(failed ? 1 : 0)
