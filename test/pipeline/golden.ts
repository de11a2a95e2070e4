/** Golden-file helper: compares against JSON under test/pipeline/golden, rewriting it when UPDATE_GOLDEN=1. */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden')

/** Asserts that `actual` equals the stored golden value named `name` (or stores it when updating). */
export function checkGolden(name: string, actual: unknown): void {
  const file = path.join(dir, `${name}.json`)
  const text = JSON.stringify(actual, null, 2) + '\n'
  if (process.env.UPDATE_GOLDEN === '1') {
    fs.writeFileSync(file, text)
    return
  }
  assert.ok(fs.existsSync(file), `golden file ${name}.json is missing: run with UPDATE_GOLDEN=1`)
  assert.deepEqual(JSON.parse(text), JSON.parse(fs.readFileSync(file, 'utf8')), `golden ${name}.json differs`)
}

/** Reads a golden input list (committed by hand, never rewritten). */
export function readInput<T>(name: string): T {
  return JSON.parse(fs.readFileSync(path.join(dir, `${name}.input.json`), 'utf8')) as T
}
