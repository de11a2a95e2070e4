/**
 * A plain description of the commands, their arguments and flags, read from oclif's cached commands
 * (`config.commands`) or from the command classes themselves: the one source for shell completion and man
 * pages, so both stay true to what the commands accept.
 */

/** One flag as completion and man pages need it. */
export interface FlagModel {
  name: string
  char?: string
  /** Whether the flag takes a value (`--format json`); false for switches. */
  takesValue: boolean
  /** Fixed choices of the value, if any (`table`, `json`...). */
  options?: readonly string[]
  /** Placeholder of the value in help and man pages ("FILE", "DURATION"). */
  helpValue?: string
  summary: string
  /** The default as help shows it, if any. */
  defaultText?: string
  /** Also accepts `--no-NAME`. */
  allowNo: boolean
  group?: string
}

/** One positional argument. */
export interface ArgModel {
  name: string
  description: string
  required: boolean
  options?: readonly string[]
}

/** One command. */
export interface CommandModel {
  id: string
  summary: string
  description: string
  examples: string[]
  args: ArgModel[]
  flags: FlagModel[]
}

/** The loose shape shared by oclif's Command.Cached and command classes. */
interface LooseFlag {
  name?: string
  char?: string
  type?: string
  options?: readonly string[]
  helpValue?: string | string[]
  summary?: string
  description?: string
  hidden?: boolean
  allowNo?: boolean
  default?: unknown
  defaultHelp?: unknown
  helpGroup?: string
}

interface LooseArg {
  name?: string
  description?: string
  required?: boolean
  options?: readonly string[]
}

/** What `describeCommand` reads from a cached command or a command class. */
export interface LooseCommand {
  id?: string
  summary?: string
  description?: string
  hidden?: boolean
  examples?: ReadonlyArray<string | {command: string; description: string}>
  flags?: Record<string, LooseFlag>
  baseFlags?: Record<string, LooseFlag>
  args?: Record<string, LooseArg>
}

function firstLine(text: string | undefined): string {
  return (text ?? '').split('\n')[0]?.trim() ?? ''
}

function defaultText(flag: LooseFlag): string | undefined {
  const value = typeof flag.defaultHelp === 'string' || typeof flag.defaultHelp === 'number' ? flag.defaultHelp : flag.default
  if (value === undefined || value === null || value === false || typeof value === 'function') return undefined
  const text = Array.isArray(value) ? value.map(String).join(',') : String(value)
  return text === '' ? undefined : text
}

function describeFlag(name: string, flag: LooseFlag): FlagModel {
  const helpValue = Array.isArray(flag.helpValue) ? flag.helpValue.join('|') : flag.helpValue
  return {
    name,
    char: flag.char,
    takesValue: flag.type === 'option',
    options: flag.options,
    helpValue,
    summary: firstLine(flag.summary ?? flag.description),
    defaultText: flag.type === 'option' ? defaultText(flag) : undefined,
    allowNo: flag.allowNo === true,
    group: flag.helpGroup,
  }
}

/** Turns `<%= config.bin %>` and `<%= command.id %>` in oclif examples into text. */
export function expandTemplate(text: string, bin: string, id: string): string {
  return text.replaceAll(/<%=\s*config\.bin\s*%>/g, bin).replaceAll(/<%=\s*command\.id\s*%>/g, id)
}

/** Describes one command; hidden flags are left out. `bin` expands the examples' templates. */
export function describeCommand(id: string, command: LooseCommand, bin = 'ovnctl'): CommandModel {
  const flags = {...command.baseFlags, ...command.flags}
  const examples = (command.examples ?? []).map((e) =>
    expandTemplate(typeof e === 'string' ? e : `${e.description}\n${e.command}`, bin, id),
  )
  return {
    id,
    summary: firstLine(command.summary ?? command.description),
    description: (command.description ?? command.summary ?? '').trim(),
    examples,
    args: Object.entries(command.args ?? {}).map(([name, a]) => ({
      name,
      description: firstLine(a.description),
      required: a.required === true,
      options: a.options,
    })),
    flags: Object.entries(flags)
      .filter(([, f]) => !f.hidden)
      .map(([name, f]) => describeFlag(name, f))
      .sort((a, b) => a.name.localeCompare(b.name)),
  }
}

/** Describes visible commands, sorted by id. */
export function describeCommands(commands: ReadonlyArray<LooseCommand & {id: string}>, bin = 'ovnctl'): CommandModel[] {
  return commands
    .filter((c) => !c.hidden)
    .map((c) => describeCommand(c.id, c, bin))
    .sort((a, b) => a.id.localeCompare(b.id))
}
