/**
 * Durations as operators type them for `--timeout`: a bare number is seconds (as `ovn-nbctl --timeout=secs`
 * takes it), or a number with a unit: `500ms`, `5s`, `2m`, `1h`, `1.5s`.
 */
import {usageError} from './exit.js'

/** The longest wait any flag accepts: a day. A bound, so a typo cannot turn into "forever". */
export const durationMsMax = 24 * 60 * 60 * 1000

const unitMs: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000}

/** Parses "5s", "500ms", "2m", "1h" or "30" (seconds) into whole milliseconds, from 1 ms to `durationMsMax`. */
export function parseDuration(text: string, flag = '--timeout'): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text)
  if (!match) {
    throw usageError(`Invalid ${flag} "${text}": expected a number of seconds or a duration like "500ms", "5s", "2m"`)
  }
  const ms = Math.round(Number(match[1]) * (unitMs[match[2] ?? 's'] ?? 1000))
  if (ms < 1) throw usageError(`Invalid ${flag} "${text}": must be at least 1 ms (no wait is unbounded)`)
  if (ms > durationMsMax) throw usageError(`Invalid ${flag} "${text}": must be at most ${durationMsMax / 3_600_000} h`)
  return ms
}

/** Formats milliseconds back the way operators write them: "500ms", "5s", "90s", "2m". */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`
  if (ms % 60_000 === 0) return `${ms / 60_000}m`
  if (ms % 1000 === 0) return `${ms / 1000}s`
  return `${ms}ms`
}
