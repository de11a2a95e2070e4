/**
 * The output contract on the real commands, run as a user runs them (bin/run.js on dist/), piped and under a
 * pseudo-terminal, against a real db-serve: every format parses, JSON is one document, colour only on a
 * terminal, stdout carries data only.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {assertBuilt, escapePattern, hasColour, hasScript, runOvnctl, runOvnctlInPty, show, type RunResult} from '../cli/spawn.js'
import {parseBoxTable, parseCsv, parseNdjson, parsePlainTable, stripSgr, switchNames, useSeededServer} from './helpers.js'

/** Runs a command that must succeed and print data only: exit 0, nothing on stderr, no escape codes. */
async function data(args: string[]): Promise<string> {
  const r = await runOvnctl(args)
  assert.equal(r.code, 0, `${args.join(' ')}\n${show(r)}`)
  assert.equal(r.stderr, '', `${args.join(' ')}: stderr stays empty\n${show(r)}`)
  assert.ok(!escapePattern.test(r.stdout), `${args.join(' ')}: no escape codes on a pipe\n${show(r)}`)
  return r.stdout
}

/** Runs under a pseudo-terminal and expects exit 0. */
async function tty(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  const r = await runOvnctlInPty(args, {env})
  assert.equal(r.code, 0, `${args.join(' ')} on a terminal\n${show(r)}`)
  return r
}

/** The text a table or CSV cell shows for a value: strings as such, sets as compact JSON. */
function cell(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

describe('db-dump, db-monitor and db-transact: output formats, piped and on a terminal', function () {
  this.timeout(60_000)
  before(function () {
    assertBuilt()
    if (!hasScript()) throw new Error('util-linux "script" is needed for the pseudo-terminal tests')
  })
  const server = useSeededServer()
  const dump = (...args: string[]) => ['db-dump', server.db, 'OVN_Northbound', 'Logical_Switch', 'name', 'ports', ...args]
  const monitor = (...args: string[]) => ['db-monitor', server.db, 'OVN_Northbound', 'Logical_Switch', 'name', '--count=2', ...args]
  /** The rows as `db-dump --format json` gives them, the reference every other format is read against. */
  let rows: Array<{_uuid: string; name: string; ports: string[]}>

  before(async () => {
    const json = await data(dump('--format', 'json'))
    assert.equal(json.split('\n').length, 2, `compact JSON is one line when piped:\n${json}`)
    rows = JSON.parse(json)
    assert.deepEqual(rows.map((r) => r.name).sort(), [...switchNames].sort(), json)
    assert.deepEqual(rows.map((r) => r.ports.length).sort(), [0, 2], json)
  })

  it('db-dump prints the same rows in table, csv, ndjson and --json form when piped', async () => {
    const expected = rows.map((r) => [r._uuid, r.name, cell(r.ports)])
    const table = parsePlainTable(await data(dump()))
    assert.deepEqual(table, {headings: ['_uuid', 'name', 'ports'], rows: expected}, 'plain table read back by column widths')
    assert.deepEqual(parseCsv(await data(dump('--format=csv'))), [['_uuid', 'name', 'ports'], ...expected], 'csv read back per RFC 4180')
    assert.deepEqual(parseNdjson(await data(dump('-f', 'ndjson'))), rows, 'one ndjson object per row')
    assert.equal(await data(dump('--json')), await data(dump('--format=json')), '--json is --format=json')
  })

  it('db-dump --bare prints values only, one per line, a blank line between rows, sets space-separated', async () => {
    const bare = await data(dump('--bare'))
    const expected = rows.map((r) => `${r._uuid}\n${r.name}\n${r.ports.join(' ')}\n`).join('\n')
    assert.equal(bare, expected)
  })

  it('db-dump --columns picks and orders columns in every format; --no-headings drops the heading line', async () => {
    const byName = (a: string[], b: string[]) => a[0].localeCompare(b[0])
    const expected = rows.map((r) => [r.name, r._uuid]).sort(byName)
    assert.deepEqual(parseCsv(await data(dump('--format=csv', '--columns', 'name,_uuid'))).slice(1).sort(byName), expected)
    assert.deepEqual(parseCsv(await data(dump('--format=csv', '--columns=name,_uuid', '--no-headings'))).sort(byName), expected)
    const json = JSON.parse(await data(dump('--json', '--columns', 'name,_uuid'))) as Array<Record<string, unknown>>
    assert.deepEqual(json.map((r) => Object.keys(r)), [['name', '_uuid'], ['name', '_uuid']], 'JSON keys in --columns order')
    const plain = await data(dump('--columns', 'name', '--no-headings'))
    assert.deepEqual(plain.split('\n').filter(Boolean).sort(), [...switchNames].sort(), `no heading, no rule:\n${plain}`)
    assert.deepEqual(parseNdjson(await data(dump('-f', 'ndjson', '--columns', '_uuid'))), rows.map((r) => ({_uuid: r._uuid})))
    const named = ['db-dump', server.db, 'OVN_Northbound', 'Logical_Switch', 'name', '_uuid', '--format=csv']
    assert.deepEqual(parseCsv(await data(named))[0], ['_uuid', 'name'], 'naming _uuid as a column keeps it once, first')
  })

  it('db-dump on a terminal: boxed table with bold headings, indented JSON, the same CSV and ndjson as piped', async () => {
    const box = await tty(dump())
    assert.ok(box.stdout.includes('\x1b[1mname\x1b[22m'), `bold heading on a terminal:\n${show(box)}`)
    const cells = parseBoxTable(stripSgr(box.stdout))
    assert.deepEqual(cells, [['_uuid', 'name', 'ports'], ...rows.map((r) => [r._uuid, r.name, cell(r.ports)])])
    const json = await tty(dump('--json'))
    assert.match(json.stdout, /^\[\n {2}\{\n {4}"_uuid": "/, `indented JSON on a terminal:\n${show(json)}`)
    assert.deepEqual(JSON.parse(json.stdout), rows, 'one JSON document, the same as piped')
    assert.ok(!hasColour(json.stdout), 'JSON carries no colour')
    for (const format of ['csv', 'ndjson']) {
      const onTty = await tty(dump('--format', format))
      assert.equal(onTty.stdout, await data(dump('--format', format)), `${format} is the same on a terminal`)
    }
  })

  it('db-dump on a terminal uses no colour with NO_COLOR=1 or --no-color, and none when stdout is a file', async () => {
    for (const [args, env] of [[[], {NO_COLOR: '1'}], [['--no-color'], {}]] as const) {
      const r = await tty(dump(...args), env)
      assert.ok(r.stdout.startsWith('┌') && !escapePattern.test(r.stdout), `boxed, no escape codes: ${JSON.stringify({args, env})}\n${show(r)}`)
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-'))
    try {
      const out = path.join(dir, 'out.txt')
      const r = await runOvnctlInPty(dump(), {stdoutTo: out})
      assert.equal(r.code, 0, show(r))
      const text = fs.readFileSync(out, 'utf8')
      assert.equal(text, await data(dump()), 'stdout redirected to a file gets the plain table, even with a terminal around it')
    } finally {
      fs.rmSync(dir, {recursive: true, force: true})
    }
  })

  it('db-monitor prints the initial rows in every format when piped, then ends at --count', async () => {
    const expected = rows.map((r) => ({table: 'Logical_Switch', uuid: r._uuid, action: 'initial', name: r.name}))
    const sortByUuid = <T extends {uuid: string}>(a: T[]) => [...a].sort((x, y) => x.uuid.localeCompare(y.uuid))
    assert.deepEqual(sortByUuid(parseNdjson(await data(monitor('--format=ndjson'))) as never), sortByUuid(expected))
    const json = await data(monitor('--json'))
    assert.equal(json.split('\n').length, 2, `one compact JSON line:\n${json}`)
    assert.deepEqual(sortByUuid(JSON.parse(json)), sortByUuid(expected))
    const asCells = expected.map((e) => [e.table, e.uuid, e.action, e.name])
    const csv = parseCsv(await data(monitor('--format=csv')))
    assert.deepEqual(csv[0], ['table', 'uuid', 'action', 'name'])
    assert.deepEqual(csv.slice(1).sort(), asCells.sort())
    const table = parsePlainTable(await data(monitor()))
    assert.deepEqual(table.headings, ['table', 'uuid', 'action', 'name'])
    assert.deepEqual(table.rows.sort(), asCells.sort())
    const bare = await data(monitor('--bare', '--columns', 'name'))
    assert.deepEqual(bare.split('\n\n').map((s) => s.trim()).sort(), [...switchNames].sort(), JSON.stringify(bare))
    assert.deepEqual(parseCsv(await data(monitor('--format=csv', '--no-headings', '--columns=action'))), [['initial'], ['initial']])
  })

  it('db-monitor on a terminal: a boxed, coloured table; none of either with --no-color; indented JSON', async () => {
    const box = await tty(monitor())
    assert.ok(hasColour(box.stdout), `colour on a terminal:\n${show(box)}`)
    assert.deepEqual(parseBoxTable(stripSgr(box.stdout))[0], ['table', 'uuid', 'action', 'name'])
    const plain = await tty(monitor('--no-color'))
    assert.ok(plain.stdout.startsWith('┌') && !escapePattern.test(plain.stdout), show(plain))
    const noColorEnv = await tty(monitor(), {NO_COLOR: '1'})
    assert.ok(!escapePattern.test(noColorEnv.stdout), show(noColorEnv))
    const json = await tty(monitor('--format', 'json'))
    assert.match(json.stdout, /^\[\n {2}\{\n {4}"table": "Logical_Switch",\n/, show(json))
    assert.equal(JSON.parse(json.stdout).length, 2)
  })

  it('db-transact prints its results as one JSON document: compact when piped, indented on a terminal', async () => {
    const select = JSON.stringify(['OVN_Northbound', {op: 'select', table: 'Logical_Switch', where: [], columns: ['name']}])
    const piped = await data(['db-transact', server.db, select])
    assert.equal(piped.split('\n').length, 2, piped)
    const results = JSON.parse(piped) as Array<{rows: Array<{name: string}>}>
    assert.deepEqual(results[0].rows.map((r) => r.name).sort(), [...switchNames].sort())
    const onTty = await tty(['db-transact', server.db, select])
    assert.match(onTty.stdout, /^\[\n {2}\{\n {4}"rows": \[\n/, show(onTty))
    assert.deepEqual(JSON.parse(onTty.stdout), results)
    assert.ok(!escapePattern.test(onTty.stdout), 'no escape codes in JSON')
    const noColor = await tty(['db-transact', server.db, select, '--no-color', '--json'])
    assert.deepEqual(JSON.parse(noColor.stdout), results, '--no-color and --json are accepted and change nothing on success')
  })

  it('db-transact reads the transaction from stdin with "-"', async () => {
    const r = await runOvnctl(['db-transact', server.db, '-'], {input: JSON.stringify(['OVN_Northbound', {op: 'comment', comment: 'hello'}])})
    assert.equal(r.code, 0, show(r))
    assert.deepEqual(JSON.parse(r.stdout), [{}], show(r))
    assert.equal(r.stderr, '')
  })

  it('a failed transaction leaves its results on stdout as data and its message on stderr', async () => {
    const bad = JSON.stringify(['OVN_Northbound', {op: 'insert', table: 'Logical_Switch', row: {name: 5}}])
    const r = await runOvnctl(['db-transact', server.db, bad])
    assert.equal(r.code, 1, show(r))
    assert.deepEqual(JSON.parse(r.stdout), [{error: 'syntax error', details: 'expected string', syntax: '5'}], show(r))
    assert.equal(r.stderr, 'ovnctl: Transaction on "OVN_Northbound" failed: syntax error: expected string\n')
  })
})
