import {Args} from '@oclif/core'
import {OvnctlCommand} from '../core/cli/command.js'
import {describeCommands, type LooseCommand} from '../core/cli/command-model.js'
import {completionScript, completionShells} from '../core/cli/completion.js'

/** `ovnctl completion bash|zsh`: prints a completion script generated from the commands and their flags. */
export default class Completion extends OvnctlCommand<typeof Completion> {
  static override summary = 'Print a shell completion script for bash or zsh.'
  static override description = `Prints a completion script for SHELL on stdout, generated from the commands and their flags: \
command names, flag names, and the fixed choices of values such as --format. Other values complete as file names.

Load it in the current shell, or install it where your shell looks for completions.`

  static override examples = [
    'source <(<%= config.bin %> <%= command.id %> bash)',
    '<%= config.bin %> <%= command.id %> bash > /etc/bash_completion.d/<%= config.bin %>',
    '<%= config.bin %> <%= command.id %> zsh > "${fpath[1]}/_<%= config.bin %>"',
  ]

  static override args = {
    shell: Args.string({description: 'The shell: bash or zsh.', options: [...completionShells], required: true}),
  }

  async run(): Promise<void> {
    const commands = describeCommands(this.config.commands as unknown as Array<LooseCommand & {id: string}>, this.config.bin)
    process.stdout.write(completionScript(this.args.shell as (typeof completionShells)[number], commands, this.config.bin))
  }
}
