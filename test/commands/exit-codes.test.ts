/**
 * One exit code per class of failure (README "The output contract"; ovnctl(1) EXIT STATUS), the same with and
 * without --json; under --json the error is one JSON object on stderr. Exit 130 (SIGINT) is checked in
 * db-monitor.test.ts, exit 4 (TLS) has no command yet.
 */
import assert from 'node:assert/strict'
import {assertBuilt, escapePattern, runOvnctl, runOvnctlInPty, show} from '../cli/spawn.js'
import {makeRefusingSocket, startSilentServer, useSeededServer} from './helpers.js'

/** One failure: the command line, the exit code it must give, and what stderr must say (without --json). */
interface Case {
  what: string
  args: string[]
  code: number
  message: RegExp
}

describe('exit codes of db-dump, db-monitor and db-transact, with and without --json', function () {
  this.timeout(60_000)
  before(() => assertBuilt())
  const server = useSeededServer()
  let silent: Awaited<ReturnType<typeof startSilentServer>>
  let refused: string
  before(async () => {
    silent = await startSilentServer(server.dir)
    refused = makeRefusingSocket(server.dir)
  })
  after(async () => silent?.close())

  const nb = 'OVN_Northbound'
  const badRow = JSON.stringify([nb, {op: 'insert', table: 'Logical_Switch', row: {name: 'x', no_such_column: 1}}])
  const cases = (): Case[] => [
    {what: 'a transaction that fails', args: ['db-transact', server.db, badRow], code: 1, message: /^ovnctl: Transaction on "OVN_Northbound" failed: unknown column: /},
    {what: 'a refused connection (dump)', args: ['db-dump', `--db=unix:${refused}`, nb], code: 1, message: /^ovnctl: .*refused\.sock.*: .*refused/i},
    {what: 'a refused connection (transact)', args: ['db-transact', `--db=unix:${refused}`, `["${nb}"]`], code: 1, message: /refused/i},
    {what: 'a missing socket (monitor)', args: ['db-monitor', `--db=unix:${server.dir}/none.sock`, nb, 'Logical_Switch'], code: 1, message: /^ovnctl: Cannot connect to ".*none\.sock": no such socket file\n$/},
    {what: 'a bad flag value (--timeout)', args: ['db-dump', server.db, '--timeout=soon'], code: 2, message: /^ovnctl: Invalid --timeout "soon": expected a number of seconds/},
    {what: 'a bad flag value (--format)', args: ['db-monitor', server.db, nb, 'Logical_Switch', '--format=xml'], code: 2, message: /Expected --format=xml to be one of: table, json, csv, ndjson/},
    {what: 'a bad flag value (--count)', args: ['db-monitor', server.db, nb, 'Logical_Switch', '--count=0'], code: 2, message: /^ovnctl: Invalid --count: Expected an integer greater than or equal to 1/},
    {what: 'an unknown column argument (dump)', args: ['db-dump', server.db, nb, 'Logical_Switch', 'nope'], code: 2, message: /^ovnctl: Unknown column "nope" in table "Logical_Switch"\n/},
    {what: 'an unknown --columns (dump)', args: ['db-dump', server.db, nb, 'Logical_Switch', '--columns', 'name,nope'], code: 2, message: /^ovnctl: Unknown column "nope": available columns are "_uuid", /},
    {what: 'an unknown column (monitor)', args: ['db-monitor', server.db, nb, 'Logical_Switch', 'nope'], code: 2, message: /^ovnctl: Unknown column "nope" in table "Logical_Switch"\n/},
    {what: 'an unknown table (dump)', args: ['db-dump', server.db, nb, 'No_Table'], code: 2, message: /^ovnctl: Unknown table "No_Table" in database "OVN_Northbound"\n/},
    {what: 'an unknown database (dump)', args: ['db-dump', server.db, 'NoDb'], code: 2, message: /^ovnctl: Unknown database "NoDb": the server has "OVN_Northbound", "_Server"\n/},
    {what: 'an unknown database (monitor)', args: ['db-monitor', server.db, 'NoDb', 'Logical_Switch'], code: 2, message: /^ovnctl: Unknown database "NoDb"/},
    {what: 'an invalid JSON argument (transact)', args: ['db-transact', server.db, '[not json'], code: 2, message: /^ovnctl: Invalid TRANSACTION: not JSON: /},
    {what: 'JSON that is not a transaction', args: ['db-transact', server.db, '{"op":"select"}'], code: 2, message: /^ovnctl: Invalid TRANSACTION: expected a JSON array/},
    {what: 'an invalid JSON flag (monitor --where)', args: ['db-monitor', server.db, nb, 'Logical_Switch', '--where', '[['], code: 2, message: /^ovnctl: Invalid --where: not JSON: /},
    {what: 'a missing argument (transact)', args: ['db-transact', server.db], code: 2, message: /^ovnctl: Missing 1 required arg:\ntransaction /},
    {what: 'a missing argument (monitor)', args: ['db-monitor', server.db, nb], code: 2, message: /^ovnctl: Missing 1 required arg:\ntable /},
    {what: 'an unknown flag', args: ['db-dump', server.db, '--bogus'], code: 2, message: /^ovnctl: Nonexistent flag: --bogus\n/},
    {what: 'a --timeout that expires (dump)', args: ['db-dump', `--db=unix:${silent.path}`, '--timeout=300ms'], code: 5, message: /^ovnctl: Cannot dump from ".*silent\.sock": no reply after 300 ms\n$/},
    {what: 'a --timeout that expires (transact)', args: ['db-transact', `--db=unix:${silent.path}`, '--timeout=300ms', `["${nb}"]`], code: 5, message: /^ovnctl: Transaction on "OVN_Northbound": no reply after 300 ms\n$/},
    {what: 'a --timeout that expires (monitor)', args: ['db-monitor', `--db=unix:${silent.path}`, '--timeout=300ms', nb, 'Logical_Switch'], code: 5, message: /^ovnctl: Cannot monitor "OVN_Northbound" on ".*silent\.sock": no reply after 300 ms\n$/},
  ]

  it('gives each class of failure its exit code, says what failed on stderr, and adds a --help pointer to usage errors only', async () => {
    for (const c of cases()) {
      const r = await runOvnctl(c.args)
      const context = `${c.what}: ovnctl ${c.args.join(' ')}\n${show(r)}`
      assert.equal(r.code, c.code, context)
      assert.match(r.stderr, c.message, context)
      assert.equal(/\nSee "ovnctl db-[a-z]+ --help"\.\n$/.test(r.stderr), c.code === 2, `--help pointer for usage errors only: ${context}`)
      // A failed transaction still prints its results: they are data. Nothing else reaches stdout.
      if (c.what !== 'a transaction that fails') assert.equal(r.stdout, '', context)
    }
  })

  it('keeps the same exit code under --json and prints the error as one JSON object on stderr', async () => {
    const kinds: Record<number, string> = {1: 'failed', 2: 'usage', 5: 'timeout'}
    for (const c of cases()) {
      const r = await runOvnctl([...c.args, '--json'])
      const context = `${c.what}: ovnctl ${c.args.join(' ')} --json\n${show(r)}`
      assert.equal(r.code, c.code, context)
      const doc = JSON.parse(r.stderr) as {error: {message: string; exitCode: number; kind: string}}
      assert.deepEqual(Object.keys(doc), ['error'], context)
      assert.equal(doc.error.exitCode, c.code, context)
      assert.equal(doc.error.kind, kinds[c.code], context)
      assert.match(`ovnctl: ${doc.error.message}\n`, c.message, `the same message as without --json: ${context}`)
      if (c.what === 'a transaction that fails') assert.ok(Array.isArray(JSON.parse(r.stdout)), context)
      else assert.equal(r.stdout, '', context)
    }
  })

  it('colours the error prefix on a terminal only, and not with NO_COLOR=1 or --no-color', async () => {
    const args = ['db-dump', server.db, 'NoDb']
    const coloured = await runOvnctlInPty(args)
    assert.equal(coloured.code, 2, show(coloured))
    assert.ok(coloured.stdout.startsWith('\x1b[31movnctl:\x1b[39m Unknown database "NoDb"'), show(coloured))
    for (const [more, env] of [[['--no-color'], {}], [[], {NO_COLOR: '1'}]] as const) {
      const plain = await runOvnctlInPty([...args, ...more], {env})
      assert.equal(plain.code, 2, show(plain))
      assert.ok(plain.stdout.startsWith('ovnctl: Unknown database "NoDb"') && !escapePattern.test(plain.stdout), show(plain))
    }
  })

  it('exits 0 on success with and without --json', async () => {
    for (const args of [['db-dump', server.db, nb, 'Logical_Switch', 'name'], ['db-transact', server.db, `["${nb}"]`]]) {
      for (const json of [[], ['--json']]) {
        const r = await runOvnctl([...args, ...json])
        assert.equal(r.code, 0, `${[...args, ...json].join(' ')}\n${show(r)}`)
        assert.equal(r.stderr, '', show(r))
      }
    }
  })
})
