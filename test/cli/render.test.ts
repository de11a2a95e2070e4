import assert from 'node:assert/strict'
import fc from 'fast-check'
import {parseCsv} from './csv.js'
import {bareText, cellText, displayWidth, escapeControls} from '../../src/core/cli/cells.js'
import {csvField, parseColumns, renderRecords, resolveColumns, type RenderOptions} from '../../src/core/cli/render.js'
import {plainTable} from '../../src/core/cli/table.js'
import {CliError} from '../../src/core/cli/exit.js'
import {awkwardRecords} from './fixtures/records.js'
import {assertGolden} from './golden.js'

const defaults = ['name', 'count', 'tags']

/** [golden file, options] for each format and layout. */
const cases: Array<[string, Omit<RenderOptions, 'columns'> & {columns?: string[] | null}]> = [
  ['table-piped.txt', {format: 'table'}],
  ['table-piped-no-headings.txt', {format: 'table', headings: false}],
  ['table-tty.txt', {format: 'table', tty: true, styleHeading: (t) => `*${t}*`}],
  ['table-all-columns.txt', {format: 'table', columns: ['name', 'count', 'tags', 'options', 'note']}],
  ['csv.txt', {format: 'csv', columns: ['name', 'count', 'tags', 'options', 'note']}],
  ['csv-no-headings.txt', {format: 'csv', headings: false}],
  ['json-piped.txt', {format: 'json', columns: null}],
  ['json-tty.txt', {format: 'json', columns: null, tty: true}],
  ['json-columns.txt', {format: 'json', columns: ['count', 'name']}],
  ['ndjson.txt', {format: 'ndjson', columns: null}],
  ['bare.txt', {format: 'table', bare: true}],
]

describe('record rendering', () => {
  for (const [golden, options] of cases) {
    it(`renders the awkward records as in golden/${golden}`, () => {
      const columns = options.columns === undefined ? defaults : options.columns
      const out = renderRecords(awkwardRecords, {...options, columns})
      assertGolden(golden, out, `renderRecords(awkwardRecords, ${JSON.stringify({...options, columns})})`)
    })
  }

  it('prints a table of no records as headings only, like ovsdb-client', () => {
    const out = renderRecords([], {format: 'table', columns: ['a', 'bb']})
    assert.equal(out, 'a bb\n- --\n', `got ${JSON.stringify(out)}`)
  })

  it('prints an empty JSON array and no ndjson lines for no records', () => {
    assert.equal(renderRecords([], {format: 'json', columns: null}), '[]\n')
    assert.equal(renderRecords([], {format: 'ndjson', columns: null}), '')
    assert.equal(renderRecords([], {format: 'table', bare: true, columns: ['a']}), '')
  })

  it('keeps one line per record in tables whatever the values hold', () => {
    fc.assert(
      fc.property(fc.array(fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.jsonValue()), {maxLength: 6}), (records) => {
        const out = renderRecords(records, {format: 'table', columns: ['a', 'b', 'c']})
        assert.equal(out.split('\n').length - 1, records.length + 2, `records ${JSON.stringify(records)} gave\n${out}`)
      }),
    )
  })

  it('writes JSON and ndjson that parse back to the records', () => {
    fc.assert(
      fc.property(fc.array(fc.dictionary(fc.string(), fc.jsonValue()), {maxLength: 6}), fc.boolean(), (records, tty) => {
        const expected = JSON.parse(JSON.stringify(records))
        const json = renderRecords(records, {format: 'json', columns: null, tty})
        assert.deepEqual(JSON.parse(json), expected, `json of ${JSON.stringify(records)}: ${json}`)
        const nd = renderRecords(records, {format: 'ndjson', columns: null})
        assert.deepEqual(nd.split('\n').filter(Boolean).map((l) => JSON.parse(l)), expected, `ndjson: ${nd}`)
      }),
    )
  })

  it('quotes CSV fields as RFC 4180 §2 asks and nothing more', () => {
    const cases: Array<[string, string]> = [
      ['plain', 'plain'],
      ['', ''],
      ['a,b', '"a,b"'],
      ['say "hi"', '"say ""hi"""'],
      ['two\nlines', '"two\nlines"'],
      ['cr\r', '"cr\r"'],
      [' spaced ', ' spaced '],
    ]
    for (const [input, expected] of cases) assert.equal(csvField(input), expected, `csvField(${JSON.stringify(input)})`)
  })

  it('reads back every CSV field with an RFC 4180 parser', () => {
    const parse = parseCsv
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string(), fc.string()), {maxLength: 5}), (pairs) => {
        const records = pairs.map(([a, b]) => ({a, b}))
        const out = renderRecords(records, {format: 'csv', columns: ['a', 'b']})
        assert.deepEqual(parse(out), [['a', 'b'], ...pairs], `csv of ${JSON.stringify(pairs)}: ${JSON.stringify(out)}`)
      }),
    )
  })
})

describe('cell text', () => {
  it('prints scalars as themselves, null as nothing, nested values as compact JSON', () => {
    const cases: Array<[unknown, string]> = [
      ['text', 'text'], [42, '42'], [true, 'true'], [null, ''], [undefined, ''], [10n ** 20n, '100000000000000000000'],
      [[1, 'a'], '[1,"a"]'], [{k: [1]}, '{"k":[1]}'], [new Date(Date.UTC(2026, 10, 24)), '2026-11-24T00:00:00.000Z'],
    ]
    for (const [value, expected] of cases) assert.equal(cellText(value), expected, `cellText(${String(value)})`)
  })

  it('strips punctuation under --bare as ovsdb-client --data=bare does', () => {
    const cases: Array<[unknown, string]> = [
      [['a', 'b c'], 'a b c'], [[], ''], [{k: 'v', k2: 'é'}, 'k=v k2=é'], [{}, ''], ['say "hi"', 'say "hi"'], [null, ''],
    ]
    for (const [value, expected] of cases) assert.equal(bareText(value), expected, `bareText(${JSON.stringify(value)})`)
  })

  it('escapes control characters so that no value moves the cursor', () => {
    assert.equal(escapeControls('a\nb\tc\u001b[31m\\'), 'a\\nb\\tc\\x1b[31m\\\\')
    fc.assert(
      fc.property(fc.string({unit: 'binary'}), (s) => {
        // eslint-disable-next-line no-control-regex
        assert.ok(!/[\u0000-\u001f\u007f-\u009f]/.test(escapeControls(s)), `escapeControls(${JSON.stringify(s)})`)
      }),
    )
  })

  it('counts terminal columns: wide characters two, combining marks none', () => {
    const cases: Array<[string, number]> = [['abc', 3], ['café', 4], ['cafe\u0301', 4], ['交换机', 6], ['☕', 2], ['', 0]]
    for (const [text, width] of cases) assert.equal(displayWidth(text), width, `displayWidth(${JSON.stringify(text)})`)
  })

  it('aligns plain tables on display width, not on string length', () => {
    const out = plainTable({headings: ['n', 'x'], rows: [['交换机', '1'], ['abcdef', '2']]})
    assert.equal(out, 'n      x\n------ -\n交换机 1\nabcdef 2\n', out)
  })
})

describe('column selection', () => {
  const records = [{a: 1, b: 2}, {c: 3}]

  it('shows the default columns, or every key in first-seen order', () => {
    assert.deepEqual(resolveColumns(records, 'table', {defaultColumns: ['b']}), ['b'])
    assert.deepEqual(resolveColumns(records, 'csv', {}), ['a', 'b', 'c'])
  })

  it('gives json and ndjson every field unless --columns narrows them', () => {
    assert.equal(resolveColumns(records, 'json', {defaultColumns: ['b']}), null)
    assert.deepEqual(resolveColumns(records, 'ndjson', {requested: ['c', 'a']}), ['c', 'a'])
  })

  it('refuses an unknown column with a usage error naming the known ones', () => {
    assert.throws(
      () => resolveColumns(records, 'table', {requested: ['a', 'zz']}),
      (e: unknown) =>
        e instanceof CliError && e.exitCode === 2 && e.message === 'Unknown column "zz": available columns are "a", "b", "c"',
    )
  })

  it('parses --columns, trimming spaces and dropping repeats, and refuses empty names', () => {
    assert.deepEqual(parseColumns('a, b,a'), ['a', 'b'])
    assert.throws(() => parseColumns('a,,b'), /Invalid --columns "a,,b": empty column name/)
  })
})
