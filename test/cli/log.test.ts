import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {Chalk} from 'chalk'
import {Logger, formatLogLine} from '../../src/core/cli/log.js'

const at = new Date(Date.UTC(2026, 10, 24, 9, 0, 0, 7))

describe('daemon logs', () => {
  it('formats lines as OVS vlog does: time|sequence|module|level|message', () => {
    const line = formatLogLine({time: at, seq: 1, module: 'raft', level: 'INFO', message: 'became leader of term 3'})
    assert.equal(line, '2026-11-24T09:00:00.007Z|00001|raft|INFO|became leader of term 3')
  })

  it('keeps one event on one line', () => {
    const line = formatLogLine({time: at, seq: 2, module: 'm', level: 'WARN', message: 'a\nb\u001b[31m'})
    assert.equal(line, '2026-11-24T09:00:00.007Z|00002|m|WARN|a\\nb\\x1b[31m')
  })

  it('numbers lines across modules and drops those below the level', () => {
    const lines: string[] = []
    const log = new Logger({kind: 'stream', stream: {write: (s: string) => lines.push(s)}}, {now: () => at})
    log.module('a').info('one')
    log.module('b').dbg('hidden')
    log.module('b').err('two')
    assert.deepEqual(lines, ['2026-11-24T09:00:00.007Z|00001|a|INFO|one\n', '2026-11-24T09:00:00.007Z|00002|b|ERR|two\n'])
  })

  it('colours the line by level only with a colour chalk', () => {
    const lines: string[] = []
    const log = new Logger({kind: 'stream', stream: {write: (s: string) => lines.push(s)}, chalk: new Chalk({level: 1})}, {now: () => at})
    log.module('a').warn('careful')
    log.module('a').info('fine')
    assert.equal(lines[0], '\x1b[33m2026-11-24T09:00:00.007Z|00001|a|WARN|careful\x1b[39m\n')
    assert.equal(lines[1], '2026-11-24T09:00:00.007Z|00002|a|INFO|fine\n')
  })

  it('appends to a log file and reopens it after rotation', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-'))
    try {
      const file = path.join(dir, 'd.log')
      const log = new Logger({kind: 'file', path: file}, {level: 'DBG', now: () => at})
      log.module('a').dbg('first')
      fs.renameSync(file, file + '.1')
      log.reopen()
      log.module('a').info('second')
      log.close()
      assert.equal(fs.readFileSync(file + '.1', 'utf8'), '2026-11-24T09:00:00.007Z|00001|a|DBG|first\n')
      assert.equal(fs.readFileSync(file, 'utf8'), '2026-11-24T09:00:00.007Z|00002|a|INFO|second\n')
    } finally {
      fs.rmSync(dir, {recursive: true, force: true})
    }
  })
})
