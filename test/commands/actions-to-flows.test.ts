import assert from 'node:assert/strict'
import {runOvnctl, show} from '../cli/spawn.js'

describe('ovnctl actions-to-flows', function () {
  this.timeout(30_000)

  it('prints the OpenFlow actions of each action list, followed by the groups they need', async () => {
    const r = await runOvnctl(['actions-to-flows', '--datapath', 'router', '--table', '6', 'ip.ttl--; eth.src <-> eth.dst; next;', 'ct_lb_mark(backends=10.0.0.2:80);'])
    assert.equal(r.code, 0, show(r))
    assert.equal(
      r.stdout,
      [
        'dec_ttl(),push:NXM_OF_ETH_DST[],push:NXM_OF_ETH_SRC[],pop:NXM_OF_ETH_DST[],pop:NXM_OF_ETH_SRC[],resubmit(,15)',
        'group:1',
        'group_id=1,type=select,selection_method=dp_hash,bucket=bucket_id:0,weight:100,actions=ct(commit,table=15,zone=NXM_NX_REG11[0..15],nat(dst=10.0.0.2:80),exec(set_field:0x2/0x2->ct_mark))',
      ].join('\n') + '\n',
      show(r),
    )
  })

  it('prints canonical actions and prerequisites as ndjson records', async () => {
    const parse = await runOvnctl(['actions-to-flows', '--stage', 'parse', '--format', 'ndjson', 'ip.ttl--;next;'])
    assert.equal(parse.code, 0, show(parse))
    assert.deepEqual(JSON.parse(parse.stdout), {input: 'ip.ttl--;next;', stage: 'parse', output: 'ip.ttl--; next;'})
    const pre = await runOvnctl(['actions-to-flows', '--stage', 'prereqs', '--format', 'ndjson', 'tcp.dst = 8080; output;', 'output;'])
    assert.equal(pre.code, 0, show(pre))
    assert.deepEqual(pre.stdout.trim().split('\n').map((l) => JSON.parse(l).output), ['tcp', '1'])
  })

  it('resubmits output to the egress output table in the egress pipeline', async () => {
    const r = await runOvnctl(['actions-to-flows', '--pipeline', 'egress', '--table', '9', '-'], {input: 'output;\n'})
    assert.equal(r.code, 0, show(r))
    assert.equal(r.stdout, 'resubmit(,64)\n')
  })

  it('reports actions it cannot encode on stderr, naming the problem, and exits 1', async () => {
    const r = await runOvnctl(['actions-to-flows', 'outport = "nowhere"; output;', 'drop;'])
    assert.equal(r.code, 1, show(r))
    assert.equal(r.stdout, 'drop\n', show(r))
    assert.match(r.stderr, /Unknown logical port "nowhere"/)
  })

  it('points a caret at a syntax error and, under --json, writes errors as JSON on stderr', async () => {
    const text = await runOvnctl(['actions-to-flows', 'next; output'])
    assert.equal(text.code, 1, show(text))
    assert.ok(text.stderr.includes('  next; output\n              ^\n'), show(text))
    const json = await runOvnctl(['actions-to-flows', '--json', 'next; output'])
    assert.equal(json.code, 1, show(json))
    assert.equal(json.stdout, '[]\n')
    const lines = json.stderr.trim().split('\n').map((l) => JSON.parse(l))
    assert.equal(lines[0].error.column, 13, show(json))
    assert.equal(lines[1].error.kind, 'failed', show(json))
  })
})
