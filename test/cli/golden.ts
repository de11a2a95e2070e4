/**
 * Golden files: expected output kept in test/cli/golden/. Run with UPDATE_GOLDEN=1 to rewrite them when a change
 * is meant; the diff is then reviewed like code (STYLE.md habit 5).
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const goldenDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden')

/** Compares `actual` with golden/`name`, or rewrites it under UPDATE_GOLDEN=1. */
export function assertGolden(name: string, actual: string, input: string): void {
  const file = path.join(goldenDir, name)
  if (process.env.UPDATE_GOLDEN === '1') {
    fs.mkdirSync(goldenDir, {recursive: true})
    fs.writeFileSync(file, actual)
    return
  }
  assert.ok(fs.existsSync(file), `golden file test/cli/golden/${name} is missing: run with UPDATE_GOLDEN=1`)
  const expected = fs.readFileSync(file, 'utf8')
  assert.equal(actual, expected, `output of ${input} differs from test/cli/golden/${name}`)
}
