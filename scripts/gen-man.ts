/**
 * Generates man/ovnctl.1 and man/ovnctl-COMMAND.1 from the command classes in src/commands (their summary,
 * description, arguments, flags and examples) plus the hand-written sections in scripts/man/sections.ts, and
 * keeps the "man" array of package.json in step.
 *
 *   npm run man               rewrite man/ (and package.json "man")
 *   npm run man -- --check    exit 1, listing what differs, if man/ or package.json "man" is stale (for CI)
 */
import fs from 'node:fs'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {describeCommands, type LooseCommand} from '../src/core/cli/command-model.js'
import {commandPage, mainPage, pageName, type PackageInfo} from './man/pages.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const manDir = path.join(root, 'man')
const commandsDir = path.join(root, 'src', 'commands')
const packageFile = path.join(root, 'package.json')

/** Command files under src/commands, as oclif finds them ("db/dump.ts" is the command "db:dump"). */
function commandFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir, {recursive: true, encoding: 'utf8'})
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !path.basename(f).startsWith('_'))
    .sort()
}

/** Evaluates `defaultHelp` functions (as oclif does when it caches commands) so pages show e.g. "10s". */
async function resolveDefaultHelp(flags: NonNullable<LooseCommand['flags']>): Promise<NonNullable<LooseCommand['flags']>> {
  const out: NonNullable<LooseCommand['flags']> = {}
  for (const [name, flag] of Object.entries(flags)) {
    const help = flag.defaultHelp
    out[name] = typeof help === 'function' ? {...flag, defaultHelp: await help({options: flag, flags: {}})} : flag
  }
  return out
}

async function loadCommands(): Promise<Array<LooseCommand & {id: string}>> {
  const commands: Array<LooseCommand & {id: string}> = []
  for (const file of commandFiles(commandsDir)) {
    const module = (await import(pathToFileURL(path.join(commandsDir, file)).href)) as {default?: unknown}
    const cls = module.default as (LooseCommand & {(): unknown; prototype?: {run?: unknown}}) | undefined
    if (typeof cls !== 'function' || typeof cls.prototype?.run !== 'function') continue
    const id = file.replace(/\.ts$/, '').split(path.sep).join(':').replace(/:index$/, '')
    const flags = await resolveDefaultHelp({...cls.baseFlags, ...cls.flags})
    commands.push(Object.assign(Object.create(cls) as LooseCommand, {id, baseFlags: {}, flags}))
  }
  return commands
}

function packageInfo(pkg: {version: string; description: string; oclif?: {bin?: string}}): PackageInfo {
  return {bin: pkg.oclif?.bin ?? 'ovnctl', version: pkg.version, description: pkg.description}
}

/** Replaces the "man" array in package.json text, leaving every other byte alone. */
function withManArray(text: string, pages: readonly string[]): string {
  const array = pages.length === 0 ? '[]' : `[\n${pages.map((p) => `    ${JSON.stringify(p)}`).join(',\n')}\n  ]`
  return text.replace(/"man":\s*\[[^\]]*\]/, `"man": ${array}`)
}

async function main(argv: string[]): Promise<number> {
  const check = argv.includes('--check')
  const packageText = fs.readFileSync(packageFile, 'utf8')
  const pkg = packageInfo(JSON.parse(packageText))
  const models = describeCommands(await loadCommands(), pkg.bin)
  const pages = new Map<string, string>([[`${pkg.bin}.1`, mainPage(pkg, models)]])
  for (const m of models) pages.set(`${pageName(pkg.bin, m.id)}.1`, commandPage(pkg, m))
  const newPackageText = withManArray(packageText, [...pages.keys()].map((f) => `./man/${f}`))

  const existing = fs.existsSync(manDir) ? fs.readdirSync(manDir).filter((f) => /\.\d$/.test(f)) : []
  const stale = existing.filter((f) => !pages.has(f))
  const changed = [...pages].filter(([f, text]) => {
    const file = path.join(manDir, f)
    return !fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text
  })
  if (check) {
    const problems = [
      ...changed.map(([f]) => `man/${f} is out of date`),
      ...stale.map((f) => `man/${f} belongs to no command`),
      ...(newPackageText === packageText ? [] : ['package.json "man" does not list exactly the generated pages']),
    ]
    for (const p of problems) process.stderr.write(`${p}\n`)
    if (problems.length > 0) process.stderr.write('Run "npm run man" to regenerate.\n')
    return problems.length > 0 ? 1 : 0
  }
  fs.mkdirSync(manDir, {recursive: true})
  for (const [f, text] of changed) fs.writeFileSync(path.join(manDir, f), text)
  for (const f of stale) fs.rmSync(path.join(manDir, f))
  if (newPackageText !== packageText) fs.writeFileSync(packageFile, newPackageText)
  process.stderr.write(`man: ${changed.length} page(s) written, ${stale.length} removed, ${pages.size} in total\n`)
  return 0
}

process.exitCode = await main(process.argv.slice(2))
