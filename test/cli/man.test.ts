import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import {describeCommands} from '../../src/core/cli/command-model.js'
import {Flags} from '@oclif/core'
import {globalFlags, outputFlags} from '../../src/core/cli/flags.js'
import {commandPage, mainPage} from '../../scripts/man/pages.js'
import {projectRoot} from './spawn.js'

const pkg = {bin: 'ovnctl', version: '9.9.9', description: 'A toolkit'}
const models = describeCommands([
  {
    id: 'db-dump',
    summary: 'Dump a database.',
    description: 'Prints rows.\n\n.Leading dot and back\\slash and --flags.',
    examples: ['<%= config.bin %> <%= command.id %> --format csv unix:/run/db.sock'],
    baseFlags: globalFlags,
    flags: {...outputFlags, out: Flags.string({summary: 'Write here.', helpValue: 'FILE', default: 'dump.txt'})},
  },
])

/** Renders roff with groff -ww (all warnings) and returns [text, warnings]. */
function groff(roff: string): [string, string] {
  const r = spawnSync('groff', ['-ww', '-man', '-Tutf8', '-rLL=300n'], {input: roff, encoding: 'utf8', env: {...process.env, LC_ALL: 'C.UTF-8'}})
  return [r.stdout.replaceAll(/.\x08/g, ''), r.stderr]
}

describe('man pages', function () {
  this.timeout(30_000)

  it('renders a command page with no groff warnings, text escaped, examples expanded', () => {
    const [text, warnings] = groff(commandPage(pkg, models[0]!))
    assert.equal(warnings, '', 'groff -ww warnings')
    for (const expected of ['ovnctl-db-dump - Dump a database', '.Leading dot and back\\slash and --flags.', 'ovnctl db-dump --format csv unix:/run/db.sock', '--out=FILE', 'Default: dump.txt', 'One of: table, json, csv, ndjson', '130']) {
      assert.ok(text.includes(expected), `page should show ${JSON.stringify(expected)}:\n${text}`)
    }
  })

  it('renders the main page listing every command and the exit codes', () => {
    const [text, warnings] = groff(mainPage(pkg, models))
    assert.equal(warnings, '', 'groff -ww warnings')
    for (const expected of ['db-dump', 'ovnctl-db-dump(1)', 'EXIT STATUS', 'NO_COLOR', 'FILES', 'OUTPUT']) {
      assert.ok(text.includes(expected), `main page should show ${JSON.stringify(expected)}`)
    }
  })

  it('has man/ up to date with the commands (npm run man -- --check)', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'scripts', 'gen-man.ts'), '--check'], {cwd: projectRoot, encoding: 'utf8'})
    assert.equal(r.status, 0, `man/ is stale:\n${r.stderr}`)
  })

  it('has pages in man/ that man renders without warnings', () => {
    const pages = fs.readdirSync(path.join(projectRoot, 'man')).filter((f) => f.endsWith('.1'))
    assert.ok(pages.includes('ovnctl.1'), `pages: ${pages.join(', ')}`)
    for (const page of pages) {
      const [, warnings] = groff(fs.readFileSync(path.join(projectRoot, 'man', page), 'utf8'))
      assert.equal(warnings, '', `groff -ww warnings for man/${page}`)
    }
  })
})
