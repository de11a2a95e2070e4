import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {applyDatumDiff, datumFromJSON, DatabaseSchema, makeRow, type Row} from '../../src/core/ovsdb/index.js'
import {changeRowUpdate} from '../../src/core/server/compose.js'
import {parseMonitorRequests} from '../../src/core/server/monitor-request.js'

/**
 * Golden update (v1) and update2 row-updates for every kind of column (ovsdb-server(7) §4.1.14): JSON in
 * (a column type, its old and new value), canonical JSON out. UPDATE_GOLDEN=1 rewrites the file.
 */
const goldenFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden', 'compose.json')

const kinds: Record<string, unknown> = {
  integer: 'integer',
  real: 'real',
  boolean: 'boolean',
  string: 'string',
  uuid: 'uuid',
  enum: {key: {type: 'string', enum: ['set', ['a', 'b', 'c']]}},
  optional_integer: {key: 'integer', min: 0, max: 1},
  optional_uuid: {key: 'uuid', min: 0, max: 1},
  set_of_strings: {key: 'string', min: 0, max: 'unlimited'},
  set_of_integers_1_to_3: {key: 'integer', min: 1, max: 3},
  map_string_string: {key: 'string', value: 'string', min: 0, max: 'unlimited'},
  map_integer_uuid: {key: 'integer', value: 'uuid', min: 0, max: 'unlimited'},
}
const U = (n: number) => `00000000-0000-4000-8000-00000000000${n}`
const transitions: Record<string, [unknown, unknown][]> = {
  integer: [[1, 2], [0, -5]],
  real: [[1.5, 2.25], [0, -1e10]],
  boolean: [[false, true]],
  string: [['a', 'b'], ['', 'x']],
  uuid: [[['uuid', U(1)], ['uuid', U(2)]]],
  enum: [['a', 'c']],
  optional_integer: [[['set', []], 7], [7, ['set', []]], [7, 8]],
  optional_uuid: [[['set', []], ['uuid', U(3)]], [['uuid', U(3)], ['uuid', U(4)]]],
  set_of_strings: [[['set', ['a', 'b']], ['set', ['b', 'c']]], [['set', []], ['set', ['x', 'y', 'z']]], [['set', ['x']], ['set', []]]],
  set_of_integers_1_to_3: [[['set', [1, 2]], ['set', [2, 3]]], [1, ['set', [1, 2, 3]]]],
  map_string_string: [[['map', [['a', '1'], ['b', '2']]], ['map', [['a', '9'], ['c', '3']]]], [['map', []], ['map', [['k', 'v']]]], [['map', [['k', 'v']]], ['map', []]]],
  map_integer_uuid: [[['map', [[1, ['uuid', U(1)]], [2, ['uuid', U(2)]]]], ['map', [[2, ['uuid', U(3)]], [3, ['uuid', U(1)]]]]]],
}

const schema = DatabaseSchema.fromJSON({
  name: 'Kinds',
  version: '1.0.0',
  tables: {T: {columns: Object.fromEntries(Object.entries(kinds).map(([k, t]) => [k, {type: t}])), isRoot: true}},
})
const table = schema.tables.get('T')!

function rowWith(column: string, json: unknown, version: string): Row {
  const columns = table.newColumns()
  columns[column] = datumFromJSON(table.columns.get(column)!.type, json)
  return makeRow(U(9), version, columns)
}

describe('monitor row-updates for every column kind (golden)', () => {
  const cases: {column: string; old: unknown; new: unknown; update: unknown; update2: unknown}[] = []
  for (const [column, list] of Object.entries(transitions)) {
    for (const [oldJson, newJson] of list) {
      const change = {old: rowWith(column, oldJson, U(5)), new: rowWith(column, newJson, U(6))}
      const spec = (v: 1 | 2) => parseMonitorRequests(schema, {T: v === 1 ? {columns: [column]} : [{columns: [column]}]}, v).get('T')!
      const current = {column, old: oldJson, new: newJson, update: changeRowUpdate(spec(1), change, 1), update2: changeRowUpdate(spec(2), change, 2)}
      cases.push(current)

      it(`applying the update2 diff of ${column} ${JSON.stringify(oldJson)} → ${JSON.stringify(newJson)} gives the new value`, () => {
        const type = table.columns.get(column)!.type
        const diffJson = (current.update2 as {modify: Record<string, unknown>}).modify[column]
        const wide = type.min === 1 && type.max === 1 ? type : {...type, min: 0, max: Infinity}
        const applied = applyDatumDiff(type, change.old.columns[column], datumFromJSON(wide, diffJson))
        assert.deepEqual(applied, change.new.columns[column])
      })
    }
  }

  it('matches the golden file', () => {
    const text = JSON.stringify(cases, null, 1) + '\n'
    if (process.env.UPDATE_GOLDEN) fs.writeFileSync(goldenFile, text)
    const expected = JSON.parse(fs.readFileSync(goldenFile, 'utf8'))
    for (let i = 0; i < Math.max(cases.length, expected.length); i++) {
      assert.deepEqual(JSON.parse(JSON.stringify(cases[i])), expected[i], `case ${i} (${cases[i]?.column}) differs`)
    }
  })
})
