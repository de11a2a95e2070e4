import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {Args, Flags} from '@oclif/core'
import {describeCommands} from '../../src/core/cli/command-model.js'
import {bashCompletion, zshCompletion} from '../../src/core/cli/completion.js'
import {globalFlags, outputFlags, timeoutFlag} from '../../src/core/cli/flags.js'

/** Commands shaped as oclif classes, with the shared flags: enough to exercise every branch of the script. */
const commands = describeCommands([
  {id: 'db-dump', summary: 'Dump a database: rows [all]', baseFlags: globalFlags, flags: {...outputFlags, timeout: timeoutFlag({defaultMs: 10_000})}},
  {id: 'db-serve', summary: "Serve a database's tables", baseFlags: globalFlags, flags: {pidfile: Flags.string({summary: 'Pid file'}), detach: Flags.boolean({summary: 'Detach'})}},
  {id: 'completion', summary: 'Print a completion script', baseFlags: globalFlags, args: {shell: Args.string({options: ['bash', 'zsh'], required: true})}},
  {id: 'secret', summary: 'Hidden', hidden: true},
])

/** Calls the completion function as bash would for `line` (the cursor at its end) and returns COMPREPLY. */
function complete(script: string, words: string[]): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-'))
  try {
    const file = path.join(dir, 'ovnctl.bash')
    fs.writeFileSync(file, script)
    const quoted = words.map((w) => `'${w.replaceAll("'", `'\\''`)}'`).join(' ')
    const program = `source ${JSON.stringify(file)}; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _ovnctl; printf '%s\\n' "\${COMPREPLY[@]}"`
    const r = spawnSync('bash', ['--norc', '--noprofile', '-c', program], {encoding: 'utf8'})
    assert.equal(r.status, 0, `bash failed for ${JSON.stringify(words)}: ${r.stderr}`)
    assert.equal(r.stderr, '', `bash complained for ${JSON.stringify(words)}`)
    return r.stdout.split('\n').filter(Boolean)
  } finally {
    fs.rmSync(dir, {recursive: true, force: true})
  }
}

describe('bash completion', () => {
  const script = bashCompletion(commands)

  it('registers a completion function for ovnctl', () => {
    const r = spawnSync('bash', ['--norc', '--noprofile', '-c', `${script}\ncomplete -p ovnctl`], {encoding: 'utf8'})
    assert.equal(r.stdout, 'complete -o default -F _ovnctl ovnctl\n', r.stderr)
  })

  it('completes visible command names, not hidden ones', () => {
    assert.deepEqual(complete(script, ['ovnctl', '']), ['completion', 'db-dump', 'db-serve', '--help', '--version'])
    assert.deepEqual(complete(script, ['ovnctl', 'db-']), ['db-dump', 'db-serve'])
  })

  it("completes a command's own and shared flags", () => {
    assert.deepEqual(complete(script, ['ovnctl', 'db-dump', '--co']), ['--columns'])
    assert.deepEqual(complete(script, ['ovnctl', 'db-dump', '--no-']), ['--no-color', '--no-headings'])
    assert.deepEqual(complete(script, ['ovnctl', 'db-serve', '--']), ['--detach', '--no-color', '--pidfile', '--help'])
  })

  it('completes the fixed choices of a flag value, also after "=" and after the short form', () => {
    assert.deepEqual(complete(script, ['ovnctl', 'db-dump', '--format', '']), ['table', 'json', 'csv', 'ndjson'])
    assert.deepEqual(complete(script, ['ovnctl', 'db-dump', '--format', '=', 'nd']), ['ndjson'])
    assert.deepEqual(complete(script, ['ovnctl', 'db-dump', '--format', '=']), ['table', 'json', 'csv', 'ndjson'])
    assert.deepEqual(complete(script, ['ovnctl', 'db-dump', '-f', 'j']), ['json'])
  })

  it('offers nothing for free values, leaving file names to bash', () => {
    assert.deepEqual(complete(script, ['ovnctl', 'db-serve', '--pidfile', '']), [])
    assert.deepEqual(complete(script, ['ovnctl', 'db-dump', '--timeout', '']), [])
  })

  it('completes the fixed choices of an argument', () => {
    assert.deepEqual(complete(script, ['ovnctl', 'completion', '']), ['bash', 'zsh'])
    assert.deepEqual(complete(script, ['ovnctl', 'completion', 'z']), ['zsh'])
  })
})

describe('zsh completion', () => {
  const script = zshCompletion(commands)

  it('describes commands and flags with _arguments, value choices included', () => {
    assert.ok(script.startsWith('#compdef ovnctl\n'), script.slice(0, 40))
    assert.ok(script.includes(`'db-dump:Dump a database - rows (all)'`), 'brackets and colons made safe in descriptions')
    assert.ok(script.includes(`'db-serve:Serve a databases tables'`), 'single quotes removed')
    assert.ok(script.includes(`'--format=[Output format - table (default), json, csv or ndjson.]:format:(table json csv ndjson)'`), script)
    assert.ok(script.includes(`'-f+[`), 'short form of an option flag')
    assert.ok(script.includes(`'--pidfile=[Pid file]:pidfile:_files'`), 'free values complete as files')
    assert.ok(script.includes(`'1:shell:(bash zsh)'`), 'argument choices')
    assert.ok(!script.includes('secret'), 'hidden commands left out')
  })

  it('is valid zsh when zsh is installed', function () {
    const probe = spawnSync('zsh', ['--version'])
    if (probe.error) this.skip()
    const r = spawnSync('zsh', ['-n'], {input: script, encoding: 'utf8'})
    assert.equal(r.status, 0, r.stderr)
  })
})
