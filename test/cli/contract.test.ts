/**
 * The output contract as people and pipelines see it, through command-free harnesses that run the real
 * contract code (fixtures/render.ts, confirm.ts, progress.ts), piped and under a pseudo-terminal.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {escapePattern, hasColour, hasScript, runFixture, runFixtureInPty, show} from './spawn.js'

describe('output contract, piped and on a terminal', function () {
  this.timeout(30_000)
  before(function () {
    if (!hasScript()) throw new Error('util-linux "script" is needed for the pseudo-terminal tests')
  })

  it('writes data on stdout without escape codes when piped, and messages on stderr', async () => {
    const r = await runFixture('render', [])
    assert.equal(r.code, 0, show(r))
    assert.match(r.stdout, /^name +count tags\n-+ -+ -+\nplain +1 +\["a","b"\]\n/, show(r))
    assert.ok(!escapePattern.test(r.stdout), `no escape codes on a pipe:\n${show(r)}`)
    assert.equal(r.stderr, 'rendered 5 records\n')
  })

  it('draws a boxed table with bold headings on a terminal', async () => {
    const r = await runFixtureInPty('render', [])
    assert.equal(r.code, 0, show(r))
    assert.ok(r.stdout.includes('┌'), `box drawn:\n${show(r)}`)
    assert.ok(r.stdout.includes('\x1b[1mname\x1b[22m'), `heading in bold:\n${show(r)}`)
    assert.ok(!/[┌│└├][^\n]*\x1b\[[0-9;]*m[─┬┼┴]/.test(r.stdout), 'borders carry no colour')
  })

  it('uses no colour on a terminal when NO_COLOR is set or --no-color is given', async () => {
    for (const [args, env] of [[[], {NO_COLOR: '1'}], [['--no-color'], {}]] as const) {
      const r = await runFixtureInPty('render', [...args], {env})
      assert.equal(r.code, 0, show(r))
      assert.ok(r.stdout.includes('┌') && !hasColour(r.stdout), `args ${JSON.stringify(args)} env ${JSON.stringify(env)}:\n${show(r)}`)
    }
  })

  it('decides per stream: stdout piped gets no colour even when stderr is a terminal', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-'))
    try {
      const out = path.join(dir, 'out')
      const r = await runFixtureInPty('render', [], {stdoutTo: out})
      assert.equal(r.code, 0, show(r))
      const data = fs.readFileSync(out, 'utf8')
      assert.ok(data.startsWith('name ') && !escapePattern.test(data), `plain table in the file:\n${data}`)
    } finally {
      fs.rmSync(dir, {recursive: true, force: true})
    }
  })

  it('indents JSON on a terminal and keeps it compact when piped', async () => {
    const piped = await runFixture('render', ['--json'])
    assert.equal(piped.stdout.split('\n').length, 2, show(piped))
    const tty = await runFixtureInPty('render', ['--json'])
    assert.ok(tty.stdout.startsWith('[\n  {\n    "name": "plain"'), show(tty))
    assert.deepEqual(JSON.parse(tty.stdout.replace('rendered 5 records\n', '')), JSON.parse(piped.stdout))
  })

  it('takes every output flag through the real flag definitions', async () => {
    const cases: Array<[string[], string]> = [
      [['--format', 'csv', '--columns', 'count,name'], 'count,name\n1,plain\n22,"comma, ""quoted"""\n'],
      [['--format=ndjson', '--columns', 'count'], '{"count":1}\n{"count":22}\n'],
      [['--bare', '--columns', 'name'], 'plain\n\ncomma, "quoted"\n\n'],
      [['-f', 'table', '--no-headings', '--columns', 'count'], '1\n22\n'],
    ]
    for (const [args, start] of cases) {
      const r = await runFixture('render', args)
      assert.equal(r.code, 0, show(r))
      assert.ok(r.stdout.startsWith(start), `${args.join(' ')}: expected to start with ${JSON.stringify(start)}\n${show(r)}`)
    }
  })

  it('exits 2 for usage errors, as text or as JSON on stderr, stdout left empty', async () => {
    const text = await runFixture('render', ['--columns', 'nope'])
    assert.equal(text.code, 2, show(text))
    assert.equal(text.stdout, '')
    assert.match(text.stderr, /^render: Unknown column "nope": available columns are "name", /, show(text))
    const json = await runFixture('render', ['--json', '--columns', 'nope'])
    assert.equal(json.code, 2, show(json))
    assert.equal(json.stdout, '')
    assert.equal(JSON.parse(json.stderr).error.kind, 'usage', show(json))
    const bad = await runFixture('render', ['--format', 'xml'])
    assert.equal(bad.code, 2, show(bad))
    const both = await runFixture('render', ['--json', '--bare'])
    assert.equal(both.code, 2, show(both))
  })

  it('refuses to prompt without a terminal: needs --yes, says so, exits 2', async () => {
    const r = await runFixture('confirm', [])
    assert.equal(r.code, 2, show(r))
    assert.equal(r.stdout, '')
    assert.match(r.stderr, /Refusing to delete everything without confirmation: not a terminal; pass --yes to confirm/, show(r))
    const yes = await runFixture('confirm', ['--yes'])
    assert.equal(yes.code, 0, show(yes))
    assert.equal(yes.stdout, 'confirmed\n')
  })

  it('prompts on a terminal and reads the answer', async () => {
    const r = await runFixtureInPty('confirm', [], {input: 'y\r'})
    assert.equal(r.code, 0, show(r))
    assert.match(r.stdout, /Delete everything\?/, show(r))
    assert.match(r.stdout, /confirmed\n/, show(r))
  })

  it('draws progress on a terminal and nothing when piped', async () => {
    const piped = await runFixture('progress', [])
    assert.equal(piped.code, 0, show(piped))
    assert.equal(piped.stderr, '', 'no progress on a pipe')
    assert.equal(piped.stdout, 'done\n')
    const tty = await runFixtureInPty('progress', [])
    assert.equal(tty.code, 0, show(tty))
    assert.ok(tty.stdout.includes('\rLoading: 50/50 (100%) rows'), show(tty))
    assert.ok(tty.stdout.endsWith('\r\x1b[Kdone\n'), `line erased before the data:\n${JSON.stringify(tty.stdout.slice(-40))}`)
  })
})
