import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {runOvnctl, show} from '../cli/spawn.js'

describe('ovnctl expr-to-flows', function () {
  this.timeout(30_000)
  let dir: string

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-'))
  })
  after(() => fs.rmSync(dir, {recursive: true, force: true}))

  it('prints the OpenFlow matches of each expression, one per line, conjunctive flows included', async () => {
    const r = await runOvnctl(['expr-to-flows', 'tcp.src == 80', 'ip4.src == {10.0.0.1, 10.0.0.2} && tcp.dst == {80, 443}'])
    assert.equal(r.code, 0, show(r))
    assert.equal(
      r.stdout,
      [
        'tcp,tp_src=80',
        'tcp6,tp_src=80',
        'conj_id=1,tcp',
        'tcp,nw_src=10.0.0.1 actions=conjunction(1,1/2)',
        'tcp,nw_src=10.0.0.2 actions=conjunction(1,1/2)',
        'tcp,tp_dst=80 actions=conjunction(1,2/2)',
        'tcp,tp_dst=443 actions=conjunction(1,2/2)',
      ].join('\n') + '\n',
      show(r),
    )
    assert.equal(r.stderr, '')
  })

  it('prints one record per expression for --format ndjson and json at the stage asked for', async () => {
    const nd = await runOvnctl(['expr-to-flows', '--stage', 'parse', '--format', 'ndjson', '80 == tcp.src', 'ip4 && !(tcp.dst == 80)'])
    assert.equal(nd.code, 0, show(nd))
    assert.deepEqual(nd.stdout.trim().split('\n').map((l) => JSON.parse(l)), [
      {input: '80 == tcp.src', stage: 'parse', output: 'tcp.src == 80'},
      {input: 'ip4 && !(tcp.dst == 80)', stage: 'parse', output: 'ip4 && !(tcp.dst == 80)'},
    ])
    const js = await runOvnctl(['expr-to-flows', '--stage', 'annotate', '--json', 'ip6'])
    assert.equal(js.code, 0, show(js))
    assert.deepEqual(JSON.parse(js.stdout), [{input: 'ip6', stage: 'annotate', output: 'eth.type == 0x86dd'}])
  })

  it('reads expressions from stdin and resolves ports and address sets from --context', async () => {
    const ctx = path.join(dir, 'ctx.json')
    fs.writeFileSync(ctx, JSON.stringify({ports: {lsp1: 5}, addressSets: {web: ['10.0.0.8']}, chassisResident: ['lsp1']}))
    const r = await runOvnctl(['expr-to-flows', '--context', ctx, '-'], {input: 'inport == "lsp1"\n\nip4.dst == $web && is_chassis_resident("lsp1")\n'})
    assert.equal(r.code, 0, show(r))
    assert.equal(r.stdout, 'reg14=0x5\nip,nw_dst=10.0.0.8\n', show(r))
  })

  it('points a caret at the column of a syntax error, still prints the rest, and exits 1', async () => {
    const r = await runOvnctl(['expr-to-flows', '(ip4 && tcp', 'arp'])
    assert.equal(r.code, 1, show(r))
    assert.equal(r.stdout, 'arp\n', show(r))
    assert.ok(r.stderr.includes('Syntax error at column 12: expecting ")"\n  (ip4 && tcp\n             ^\n'), show(r))
    assert.match(r.stderr, /1 of 2 expressions did not compile/)
  })

  it('refuses an unreadable context file as a usage error (exit 2)', async () => {
    const r = await runOvnctl(['expr-to-flows', '--context', path.join(dir, 'missing.json'), 'ip4'])
    assert.equal(r.code, 2, show(r))
    assert.match(r.stderr, /Cannot read context/)
  })
})
