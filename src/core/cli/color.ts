/**
 * Colour decisions, per stream. chalk 5 looks at process.stdout once and ignores NO_COLOR, so each stream gets
 * its own Chalk instance with a level computed here (https://no-color.org: any non-empty NO_COLOR disables).
 */
import {Chalk, type ChalkInstance, type ColorSupportLevel} from 'chalk'

/** The part of a writable stream the output contract looks at (process.stdout, process.stderr, test doubles). */
export interface OutputStream {
  write(chunk: string): unknown
  isTTY?: boolean
  columns?: number
  getColorDepth?(env?: object): number
}

/** What decides colour besides the stream: the `--no-color` flag and the environment. */
export interface ColorOptions {
  noColor?: boolean
  env?: Record<string, string | undefined>
}

/** Colour level for text written to `stream`: 0 unless it is a TTY, NO_COLOR is empty, --no-color is absent. */
export function colorLevel(stream: OutputStream, options: ColorOptions = {}): ColorSupportLevel {
  const env = options.env ?? process.env
  if (options.noColor) return 0
  if ((env.NO_COLOR ?? '') !== '') return 0
  if (stream.isTTY !== true) return 0
  if (env.TERM === 'dumb') return 0
  // Node reports a depth of 1 on a terminal when CI is set; a terminal still gets at least basic colour.
  const depth = stream.getColorDepth?.(env) ?? 4
  if (depth >= 24) return 3
  if (depth >= 8) return 2
  return 1
}

/** A chalk instance that colours only when `colorLevel` allows it for this stream. */
export function chalkFor(stream: OutputStream, options: ColorOptions = {}): ChalkInstance {
  return new Chalk({level: colorLevel(stream, options)})
}
