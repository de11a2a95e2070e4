/**
 * `--timeout` as a bound on a whole step of a command (connect, list the databases, fetch a schema, run the
 * request), as ovsdb-client(1) `--timeout` limits its run time: a server that accepts the connection and never
 * answers still ends the command with exit 5.
 */
import {timeoutError} from './exit.js'

/**
 * Settles as `work` does, or rejects with `timeoutError(what, timeoutMs, detail)` (exit 5) if `work` has not
 * settled within `timeoutMs` (0 or less: no bound). The caller closes whatever `work` was waiting on.
 */
export async function withTimeout<T>(work: Promise<T>, options: {timeoutMs: number; what: string; detail?: string}): Promise<T> {
  if (options.timeoutMs <= 0) return work
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(timeoutError(options.what, options.timeoutMs, options.detail ?? 'no reply')), options.timeoutMs)
  })
  try {
    return await Promise.race([work, expired])
  } finally {
    clearTimeout(timer)
  }
}
