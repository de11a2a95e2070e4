import assert from 'node:assert/strict'
import {chalkFor, colorLevel} from '../../src/core/cli/color.js'

const tty = {isTTY: true, write: () => true, getColorDepth: () => 8}
const pipe = {isTTY: false, write: () => true}

describe('colour decisions', () => {
  it('colours a terminal and never a pipe', () => {
    assert.equal(colorLevel(tty, {env: {}}), 2)
    assert.equal(colorLevel(pipe, {env: {}}), 0)
  })

  it('honours NO_COLOR with any non-empty value, and --no-color', () => {
    assert.equal(colorLevel(tty, {env: {NO_COLOR: '1'}}), 0)
    assert.equal(colorLevel(tty, {env: {NO_COLOR: 'false'}}), 0, 'any non-empty value disables')
    assert.equal(colorLevel(tty, {env: {NO_COLOR: ''}}), 2, 'an empty NO_COLOR is as if unset')
    assert.equal(colorLevel(tty, {env: {}, noColor: true}), 0)
  })

  it('does not colour a dumb terminal', () => {
    assert.equal(colorLevel(tty, {env: {TERM: 'dumb'}}), 0)
  })

  it('gives each stream its own chalk instance', () => {
    assert.equal(chalkFor(tty, {env: {}}).red('x'), '\x1b[31mx\x1b[39m')
    assert.equal(chalkFor(pipe, {env: {}}).red('x'), 'x')
  })
})
