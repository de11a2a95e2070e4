import assert from 'node:assert/strict'
import {Errors} from '@oclif/core'
import {
  CliError,
  ExitCode,
  authError,
  differencesError,
  errorDocument,
  errorReport,
  exitCodeMeanings,
  exitCodeOf,
  interruptedError,
  timeoutError,
  usageError,
} from '../../src/core/cli/exit.js'
import {Chalk} from 'chalk'

function withCode(code: string, message = 'boom'): Error {
  return Object.assign(new Error(message), {code})
}

describe('exit codes', () => {
  it('maps each kind of failure to the code of the contract', () => {
    const abort = new Error('stop')
    abort.name = 'AbortError'
    const prompt = new Error('User force closed the prompt')
    prompt.name = 'ExitPromptError'
    const cases: Array<[string, unknown, number]> = [
      ['a plain Error', new Error('x'), 1],
      ['a thrown string', 'x', 1],
      ['usageError', usageError('x'), 2],
      ['differencesError', differencesError('x'), 3],
      ['authError', authError('x'), 4],
      ['timeoutError', timeoutError('x', 5), 5],
      ['interruptedError', interruptedError(), 130],
      ['an error carrying exitCode 4', Object.assign(new Error('x'), {exitCode: 4}), 4],
      ['an error carrying an unknown exitCode', Object.assign(new Error('x'), {exitCode: 77}), 1],
      ['an AbortError (SIGINT)', abort, 130],
      ['an inquirer ExitPromptError (Ctrl-C at a prompt)', prompt, 130],
      ['a DOMException TimeoutError (AbortSignal.timeout)', new DOMException('t', 'TimeoutError'), 5],
      ['ETIMEDOUT', withCode('ETIMEDOUT'), 5],
      ['ECONNREFUSED', withCode('ECONNREFUSED'), 1],
      ['a TLS certificate error', withCode('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 4],
      ['a self-signed certificate', withCode('DEPTH_ZERO_SELF_SIGNED_CERT'), 4],
      ['ERR_TLS_CERT_ALTNAME_INVALID', withCode('ERR_TLS_CERT_ALTNAME_INVALID'), 4],
      ['an oclif ExitError(3)', new Errors.ExitError(3), 3],
      ['an oclif CLIError (unknown command)', new Errors.CLIError('command x not found'), 2],
      ['an oclif parse error even if configured otherwise', Object.assign(new Errors.CLIError('bad', {exit: 9}), {parse: {}}), 2],
    ]
    for (const [what, err, code] of cases) assert.equal(exitCodeOf(err), code, `exitCodeOf(${what})`)
  })

  it('documents every code it can return', () => {
    assert.deepEqual(exitCodeMeanings.map((m) => m.code), Object.values(ExitCode))
  })

  it('words timeouts as what failed, then the detail after a colon', () => {
    assert.equal(timeoutError('Cannot join cluster "4f2a"', 5000, 'no leader elected').message, 'Cannot join cluster "4f2a": no leader elected after 5000 ms')
  })
})

describe('error reports', () => {
  const plain = new Chalk({level: 0})
  const colour = new Chalk({level: 1})

  it('prints "bin: message" and a --help pointer for usage errors', () => {
    const text = errorReport(usageError('Unknown column "x"'), {json: false, bin: 'ovnctl', id: 'db-dump', chalk: plain})
    assert.equal(text, 'ovnctl: Unknown column "x"\nSee "ovnctl db-dump --help".\n')
  })

  it('colours only the program name, and only with a colour chalk', () => {
    const err = new CliError('Cannot connect to "unix:/x": connection refused')
    assert.equal(errorReport(err, {json: false, bin: 'ovnctl', chalk: plain}), 'ovnctl: Cannot connect to "unix:/x": connection refused\n')
    assert.equal(errorReport(err, {json: false, bin: 'ovnctl', chalk: colour}), '\x1b[31movnctl:\x1b[39m Cannot connect to "unix:/x": connection refused\n')
  })

  it('prints one JSON line under --json with the same exit code', () => {
    const text = errorReport(timeoutError('Cannot connect to "unix:/x"', 100), {json: true, bin: 'ovnctl', chalk: colour})
    assert.ok(text.endsWith('\n') && !text.slice(0, -1).includes('\n'), text)
    assert.deepEqual(JSON.parse(text), {error: {message: 'Cannot connect to "unix:/x": no answer after 100 ms', exitCode: 5, kind: 'timeout'}})
  })

  it('drops oclif\'s "See more help" trailer from parse errors', () => {
    const err = Object.assign(new Errors.CLIError('Nonexistent flag: --x\nSee more help with --help'), {parse: {}})
    assert.equal(errorDocument(err).error.message, 'Nonexistent flag: --x')
  })

  it('adds the stack of unexpected errors only when debugging', () => {
    const err = new Error('bug')
    assert.ok(!errorReport(err, {json: false, bin: 'b'}).includes('at '), 'no stack without debug')
    assert.match(errorReport(err, {json: false, bin: 'b', debug: true}), /\n\s+at /)
  })
})
