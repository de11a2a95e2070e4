/**
 * Pidfiles as ovsdb-server(1) "--pidfile" keeps them: written once the daemon serves, holding the process id
 * and a newline, removed on exit; a pidfile naming a live process means another instance runs, so we refuse.
 */
import fs from 'node:fs'
import path from 'node:path'
import {failedError} from './exit.js'

/** Whether a process with this id exists (signal 0 checks without sending; EPERM means it exists). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The process id in a pidfile, or null if it is missing or does not hold a number. */
export function readPidfile(file: string): number | null {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw failedError(`Cannot read pidfile "${file}": ${(e as Error).message}`)
  }
  const pid = Number(text.trim())
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null
}

/** Throws if the pidfile names a live process other than this one; a stale pidfile is fine. */
export function checkPidfile(file: string, self = process.pid): void {
  const pid = readPidfile(file)
  if (pid !== null && pid !== self && isProcessAlive(pid)) {
    throw failedError(`Cannot use pidfile "${file}": process ${pid} is running`)
  }
}

/** Writes our pid atomically (temporary file, then rename), after checking no live process holds the file. */
export function writePidfile(file: string, pid = process.pid): void {
  checkPidfile(file, pid)
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${pid}.tmp`)
  try {
    fs.writeFileSync(tmp, `${pid}\n`)
    fs.renameSync(tmp, file)
  } catch (e) {
    fs.rmSync(tmp, {force: true})
    throw failedError(`Cannot write pidfile "${file}": ${(e as Error).message}`)
  }
}

/** Removes the pidfile if it still holds `pid` (another instance may have replaced a stale one). */
export function removePidfile(file: string, pid = process.pid): void {
  if (readPidfile(file) === pid) fs.rmSync(file, {force: true})
}
