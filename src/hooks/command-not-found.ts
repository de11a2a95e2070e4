import type {Hook} from '@oclif/core'
import {chalkFor} from '../core/cli/color.js'
import {errorDocument, usageError} from '../core/cli/exit.js'
import {argvWantsJson} from '../core/cli/output.js'

/**
 * An unknown command is a usage error (exit 2) reported like every other error of ovnctl: a line on stderr
 * (a JSON object under --json), with the nearest command names to try.
 */
const hook: Hook<'command_not_found'> = async function (opts) {
  const known = opts.config.commandIDs
  const near = known.filter((id) => id.startsWith(opts.id.slice(0, 3)) || opts.id.startsWith(id.split('-')[0]))
  const hint = near.length > 0 ? `: did you mean ${near.map((n) => `"${n}"`).join(', ')}?` : `: see "${opts.config.bin} --help"`
  const err = usageError(`Unknown command "${opts.id}"${hint}`)
  if (argvWantsJson(opts.argv ?? [])) process.stderr.write(JSON.stringify(errorDocument(err)) + '\n')
  else process.stderr.write(`${chalkFor(process.stderr).red(`${opts.config.bin}:`)} ${err.message}\n`)
  process.exit(err.exitCode)
}

export default hook
