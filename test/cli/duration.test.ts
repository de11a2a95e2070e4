import assert from 'node:assert/strict'
import {durationMsMax, formatDuration, parseDuration} from '../../src/core/cli/duration.js'

describe('durations', () => {
  it('reads seconds by default and the units ms, s, m, h', () => {
    const cases: Array<[string, number]> = [['30', 30_000], ['5s', 5000], ['500ms', 500], ['1.5s', 1500], ['2m', 120_000], ['1h', 3_600_000], [' 7 s ', 7000], ['0.001', 1]]
    for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, `parseDuration(${JSON.stringify(text)})`)
  })

  it('refuses garbage, zero and waits longer than the bound, as usage errors naming the flag', () => {
    for (const text of ['', 'soon', '5 sec', '-1', '1e3', '0', '0ms', '25h']) {
      assert.throws(() => parseDuration(text, '--wait'), (e: Error & {exitCode?: number}) => e.exitCode === 2 && e.message.startsWith(`Invalid --wait "${text}"`), `parseDuration(${JSON.stringify(text)})`)
    }
    assert.equal(parseDuration('24h'), durationMsMax)
  })

  it('writes durations back in the largest exact unit', () => {
    const cases: Array<[number, string]> = [[500, '500ms'], [5000, '5s'], [90_000, '90s'], [120_000, '2m'], [7_200_000, '2h']]
    for (const [ms, text] of cases) assert.equal(formatDuration(ms), text, `formatDuration(${ms})`)
  })
})
