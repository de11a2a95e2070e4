/**
 * Confirmation before destructive actions. A prompt needs a person: stdin, stdout and stderr (where the prompt
 * is drawn, stdout being data) must all be terminals. Otherwise the command needs `--yes` and says so, exit 2.
 */
import {confirm} from '@inquirer/prompts'
import type {Readable, Writable} from 'node:stream'
import {usageError} from './exit.js'

/** The streams a prompt uses; process streams by default. */
export interface PromptStreams {
  stdin: Readable & {isTTY?: boolean}
  stdout: {isTTY?: boolean}
  stderr: Writable & {isTTY?: boolean}
}

/** Whether a prompt can be shown: stdin, stdout and stderr are all terminals. */
export function canPrompt(streams: PromptStreams): boolean {
  return streams.stdin.isTTY === true && streams.stdout.isTTY === true && streams.stderr.isTTY === true
}

/**
 * Asks "`question` (y/N)" on stderr and returns the answer; returns true at once with `yes`. Without a terminal
 * and without `yes`, throws a usage error naming `--yes`. `action` says what would be done, for that message.
 */
export async function confirmAction(
  question: string,
  options: {yes: boolean; action: string; streams?: PromptStreams},
): Promise<boolean> {
  if (options.yes) return true
  const streams = options.streams ?? {stdin: process.stdin, stdout: process.stdout, stderr: process.stderr}
  if (!canPrompt(streams)) {
    throw usageError(`Refusing to ${options.action} without confirmation: not a terminal; pass --yes to confirm`)
  }
  return confirm({message: question, default: false}, {input: streams.stdin, output: streams.stderr})
}
