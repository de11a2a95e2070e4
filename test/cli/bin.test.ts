/**
 * ovnctl run as a user runs it: bin/run.js on the compiled dist/ (npm test builds first). Only `completion`
 * exists so far; add one block per command here as commands land, with the helpers of spawn.ts.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {assertBuilt, escapePattern, runOvnctl, runOvnctlInPty, show} from './spawn.js'

describe('ovnctl as installed (bin/run.js)', function () {
  this.timeout(30_000)
  before(() => assertBuilt())

  it('prints a bash completion script that bash loads, on stdout only', async () => {
    const r = await runOvnctl(['completion', 'bash'])
    assert.equal(r.code, 0, show(r))
    assert.equal(r.stderr, '')
    const check = spawnSync('bash', ['--norc', '--noprofile', '-c', `${r.stdout}\ncomplete -p ovnctl; COMP_WORDS=(ovnctl comp); COMP_CWORD=1; _ovnctl; echo "\${COMPREPLY[@]}"`], {encoding: 'utf8'})
    assert.equal(check.stdout, 'complete -o default -F _ovnctl ovnctl\ncompletion\n', check.stderr)
  })

  it('exits 2 with "ovnctl: ..." on stderr for a bad argument, unknown flag or missing argument', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['completion', 'fish'], /^ovnctl: Expected fish to be one of: bash, zsh\nSee "ovnctl completion --help"\.\n$/],
      [['completion', 'bash', '--bogus'], /^ovnctl: Nonexistent flag: --bogus\n/],
      [['completion'], /^ovnctl: Missing 1 required arg/],
    ]
    for (const [args, stderr] of cases) {
      const r = await runOvnctl(args)
      assert.equal(r.code, 2, `${args.join(' ')}\n${show(r)}`)
      assert.equal(r.stdout, '', `${args.join(' ')}: nothing on stdout`)
      assert.match(r.stderr, stderr, `${args.join(' ')}\n${show(r)}`)
    }
  })

  it('exits 2 for an unknown command', async () => {
    const r = await runOvnctl(['no-such-command'])
    assert.equal(r.code, 2, show(r))
    assert.equal(r.stdout, '')
  })

  it('keeps the same exit code under --json and prints the error as JSON on stderr', async () => {
    const r = await runOvnctl(['completion', 'fish', '--json'])
    assert.equal(r.code, 2, show(r))
    assert.equal(r.stdout, '')
    const doc = JSON.parse(r.stderr)
    assert.equal(doc.error.exitCode, 2, show(r))
    assert.equal(doc.error.kind, 'usage', show(r))
  })

  it('prints help without escape codes when piped', async () => {
    const r = await runOvnctl(['completion', '--help'])
    assert.equal(r.code, 0, show(r))
    assert.match(r.stdout, /USAGE\n {2}\$ ovnctl completion SHELL/, show(r))
    assert.ok(!escapePattern.test(r.stdout), show(r))
  })

  it('colours the error prefix on a terminal, and not with NO_COLOR', async () => {
    const tty = await runOvnctlInPty(['completion', 'fish'])
    assert.equal(tty.code, 2, show(tty))
    assert.ok(tty.stdout.includes('\x1b[31movnctl:\x1b[39m Expected fish'), show(tty))
    const plain = await runOvnctlInPty(['completion', 'fish'], {env: {NO_COLOR: '1'}})
    assert.equal(plain.code, 2, show(plain))
    assert.ok(plain.stdout.startsWith('ovnctl: Expected fish'), show(plain))
  })
})
