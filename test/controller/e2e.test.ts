import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {eventually, ovnctl, requireBuild, run, tempDir} from '../interop/lib.js'
import {addVif, canRunHypervisor, startHypervisor, type Hypervisor} from './hypervisor.js'
import {buildTopology, startCentral, startOurs, startReal, topologyPorts, type Central, type ControllerProcess} from './stack.js'

const m = (n: number) => `00:00:00:00:00:0${n}`
const router0 = '00:00:00:00:ff:01'

/** Packets of the comparison, by what they exercise; in_port numbers are the OpenFlow ports of sw0-p1..3, sw1-p1. */
function packets(port: Record<string, number>): Array<[string, string]> {
  const p1 = port['sw0-p1']
  return [
    ['ARP for a neighbour (answered by the ARP responder)', `in_port=${p1},arp,dl_src=${m(1)},dl_dst=ff:ff:ff:ff:ff:ff,arp_spa=10.0.0.11,arp_tpa=10.0.0.12,arp_op=1,arp_sha=${m(1)}`],
    ['ARP for the router', `in_port=${p1},arp,dl_src=${m(1)},dl_dst=ff:ff:ff:ff:ff:ff,arp_spa=10.0.0.11,arp_tpa=10.0.0.1,arp_op=1,arp_sha=${m(1)}`],
    ['IPv4 ICMP to sw0-p2', `in_port=${p1},icmp,dl_src=${m(1)},dl_dst=${m(2)},nw_src=10.0.0.11,nw_dst=10.0.0.12,nw_ttl=64,icmp_type=8`],
    ['IPv4 TCP to sw0-p3', `in_port=${p1},tcp,dl_src=${m(1)},dl_dst=${m(3)},nw_src=10.0.0.11,nw_dst=10.0.0.13,nw_ttl=64,tp_src=1000,tp_dst=80`],
    ['TCP port 22, dropped by an ACL', `in_port=${p1},tcp,dl_src=${m(1)},dl_dst=${m(2)},nw_src=10.0.0.11,nw_dst=10.0.0.12,nw_ttl=64,tp_src=1000,tp_dst=22`],
    ['TCP to the load balancer VIP', `in_port=${port['sw0-p3']},tcp,dl_src=${m(3)},dl_dst=${m(1)},nw_src=10.0.0.13,nw_dst=10.0.0.100,nw_ttl=64,tp_src=1000,tp_dst=80`],
    ['IPv4 routed to sw1', `in_port=${p1},icmp,dl_src=${m(1)},dl_dst=${router0},nw_src=10.0.0.11,nw_dst=10.0.1.11,nw_ttl=64,icmp_type=8`],
    ['IPv4 routed back from sw1', `in_port=${port['sw1-p1']},icmp,dl_src=00:00:00:00:01:01,dl_dst=00:00:00:00:ff:02,nw_src=10.0.1.11,nw_dst=10.0.0.13,nw_ttl=64,icmp_type=8`],
    ['IPv6 UDP to sw0-p2', `in_port=${p1},udp6,dl_src=${m(1)},dl_dst=${m(2)},ipv6_src=fd00::11,ipv6_dst=fd00::12,nw_ttl=64,udp_dst=53`],
    ['IPv6 routed to sw1', `in_port=${p1},udp6,dl_src=${m(1)},dl_dst=${router0},ipv6_src=fd00::11,ipv6_dst=fd01::11,nw_ttl=64,udp_dst=53`],
    ['IPv6 neighbour solicitation', `in_port=${p1},icmp6,dl_src=${m(1)},dl_dst=33:33:ff:00:00:12,ipv6_src=fd00::11,ipv6_dst=ff02::1:ff00:12,nw_ttl=255,icmpv6_type=135,icmpv6_code=0,nd_target=fd00::12`],
    ['an unknown destination MAC', `in_port=${port['sw0-p2']},icmp,dl_src=${m(2)},dl_dst=00:00:00:00:00:99,nw_src=10.0.0.12,nw_dst=10.0.0.99,nw_ttl=64,icmp_type=8`],
    ['a spoofed source MAC (port security)', `in_port=${p1},icmp,dl_src=${m(7)},dl_dst=${m(2)},nw_src=10.0.0.11,nw_dst=10.0.0.12,nw_ttl=64,icmp_type=8`],
    ['a spoofed source IPv4 (port security)', `in_port=${p1},icmp,dl_src=${m(1)},dl_dst=${m(2)},nw_src=10.0.0.99,nw_dst=10.0.0.12,nw_ttl=64,icmp_type=8`],
    ['a spoofed source IPv6 (port security)', `in_port=${p1},udp6,dl_src=${m(1)},dl_dst=${m(2)},ipv6_src=fd00::99,ipv6_dst=fd00::12,nw_ttl=64,udp_dst=53`],
    ['an ARP with a spoofed sender IP (port security)', `in_port=${p1},arp,dl_src=${m(1)},dl_dst=ff:ff:ff:ff:ff:ff,arp_spa=10.0.0.99,arp_tpa=10.0.0.12,arp_op=1,arp_sha=${m(1)}`],
    ['an ARP with a spoofed sender MAC (port security)', `in_port=${p1},arp,dl_src=${m(1)},dl_dst=ff:ff:ff:ff:ff:ff,arp_spa=10.0.0.11,arp_tpa=10.0.0.12,arp_op=1,arp_sha=${m(7)}`],
    ['an IPv4 packet to sw0-p2 for an address it does not own (egress port security)', `in_port=${port['sw0-p3']},icmp,dl_src=${m(3)},dl_dst=${m(2)},nw_src=10.0.0.13,nw_dst=10.0.0.99,nw_ttl=64,icmp_type=8`],
    ['an IPv6 packet to sw0-p2, which has no IPv6 in its port security (egress port security)', `in_port=${port['sw0-p3']},udp6,dl_src=${m(3)},dl_dst=${m(2)},ipv6_src=fd00::13,ipv6_dst=fd00::12,nw_ttl=64,udp_dst=53`],
    ['an IPv4 broadcast to sw0-p2 (egress port security)', `in_port=${port['sw0-p3']},udp,dl_src=${m(3)},dl_dst=${m(2)},nw_src=10.0.0.13,nw_dst=255.255.255.255,nw_ttl=64,udp_dst=53`],
  ]
}

async function portsUp(c: Central, names: readonly string[], chassis: string): Promise<boolean> {
  for (const name of names) {
    const out = await c.sbctl('--bare', '--columns=up,chassis', 'find', 'Port_Binding', `logical_port=${name}`)
    const [up, ch] = out.trim().split('\n').filter((l) => l.trim() !== '')
    if (up !== 'true' || ch === undefined || ch === '') return false
    const name2 = (await c.sbctl('--bare', '--columns=name', 'list', 'Chassis', ch.trim())).trim()
    if (name2 !== chassis) return false
  }
  return true
}

/** The flows of tables 68 and 70 (load balancer hairpin) as the switch prints them, sorted. */
async function hairpinTables(hv: Hypervisor): Promise<string> {
  const lines: string[] = []
  for (const table of ['68', '70']) {
    const r = await run('ovs-ofctl', ['-O', 'OpenFlow15', 'dump-flows', '--no-stats', '--no-names', `unix:${hv.dir}/br-int.mgmt`, `table=${table}`])
    assert.equal(r.code, 0, r.stderr)
    lines.push(...r.stdout.split('\n').filter((l) => l.includes('actions=')).map((l) => l.trim()))
  }
  return lines.sort().join('\n')
}

/** Port security as the e2e topology sets it: sw0-p1 MAC + IPv4 + IPv6, sw0-p2 MAC + IPv4, sw0-p3 none. */
const portSecurity: Array<[string, string[]]> = [
  ['sw0-p1', [`${m(1)} 10.0.0.11 fd00::11`]],
  ['sw0-p2', [`${m(2)} 10.0.0.12`]],
]

/** The flows of tables 73-75 (port security) as the switch prints them, sorted, by table. */
async function portSecurityTables(hv: Hypervisor): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {}
  for (const table of ['73', '74', '75']) {
    const r = await run('ovs-ofctl', ['-O', 'OpenFlow15', 'dump-flows', '--no-stats', '--no-names', `unix:${hv.dir}/br-int.mgmt`, `table=${table}`])
    assert.equal(r.code, 0, r.stderr)
    out[table] = r.stdout.split('\n').filter((l) => l.includes('actions=')).map((l) => l.trim()).sort()
  }
  return out
}

async function flowCount(hv: Hypervisor): Promise<number> {
  const r = await run('ovs-ofctl', ['dump-flows', `unix:${hv.dir}/br-int.mgmt`])
  assert.equal(r.code, 0, r.stderr)
  return r.stdout.split('\n').filter((l) => l.includes('actions=')).length
}

describe('controller-run end to end, against the real ovn-controller', function () {
  this.timeout(300000)
  let tmp: ReturnType<typeof tempDir>
  let central: Central | undefined
  let hv: Hypervisor | undefined
  let ours: ControllerProcess | undefined
  let real: ControllerProcess | undefined
  const ofports: Record<string, number> = {}
  const realVerdicts = new Map<string, string>()
  let realHairpin = ''
  let realPortSecurity: Record<string, string[]> = {}

  before(async function () {
    if (!(await canRunHypervisor())) this.skip()
    requireBuild()
    tmp = tempDir()
    central = await startCentral(tmp.dir)
    await buildTopology(central)
    for (const [lsp, entries] of portSecurity) await central.nbctl('lsp-set-port-security', lsp, ...entries)
    await central.nbctl('--wait=sb', 'sync')
    hv = await startHypervisor(tmp.dir, 'hv1', {'system-id': 'hv1', 'ovn-remote': central.sb, 'ovn-encap-type': 'geneve', 'ovn-encap-ip': '127.0.0.1', 'ovn-bridge': 'br-int'})
    for (const [, port] of topologyPorts) ofports[port] = await addVif(hv, port)
  })

  after(async () => {
    await real?.stop()
    await ours?.stop()
    await hv?.stop()
    await central?.stop()
    tmp?.cleanup()
  })

  it('records the real ovn-controller\'s verdicts for every packet of the set', async () => {
    real = startReal(hv!)
    const names = topologyPorts.map((p) => p[1])
    await eventually(() => portsUp(central!, names, 'hv1'), 60000, 'the real ovn-controller to bring every port up')
    await central!.nbctl('--wait=hv', 'sync')
    for (const [what, flow] of packets(ofports)) realVerdicts.set(what, await hv!.trace(flow))
    realHairpin = await hairpinTables(hv!)
    realPortSecurity = await portSecurityTables(hv!)
    assert.match(realVerdicts.get('TCP port 22, dropped by an ACL')!, /drop$/)
    // The port security packets test something: the real controller delivers none of them (no output port at the
    // end of the last pass) and delivers the right one.
    for (const [what, verdict] of realVerdicts) if (/port security/.test(what) && !/broadcast/.test(what)) assert.doesNotMatch(verdict, /\d$/, `${what} is not delivered: ${verdict}`)
    assert.match(realVerdicts.get('IPv4 ICMP to sw0-p2')!, /,\d+$/)
    // The real controller confirmed each port up once: an update2 diff it rejected (an optional column sent as
    // a symmetric difference) made it set Port_Binding "up" again in a loop, tens of thousands of times.
    const log = fs.readFileSync(path.join(hv!.dir, 'ovn-controller.log'), 'utf8')
    const settings = log.split('\n').filter((l) => /Setting lport .* up in Southbound/.test(l)).length
    assert.ok(settings <= 3 * names.length, `the real ovn-controller set "up" ${settings} times for ${names.length} ports`)
    await real.stop()
    real = undefined
    // The chassis leaves as if its host were replaced: the ports are unbound until controller-run claims them.
    await central!.sbctl('chassis-del', 'hv1')
  })

  it('brings every port up with controller-run and gives the same verdict for every packet', async () => {
    assert.ok(realVerdicts.size > 0, 'the real controller\'s verdicts were recorded')
    ours = startOurs(hv!, [`--cache=${path.join(hv!.dir, 'sb.cache')}`])
    const names = topologyPorts.map((p) => p[1])
    await eventually(() => portsUp(central!, names, 'hv1'), 60000, `controller-run to bring every port up; its log:\n${ours!.log()}`)
    const status = await hv!.appctl(ours.ctl, 'connection-status')
    assert.match(status, /^connected\n/)
    const differences: string[] = []
    for (const [what, flow] of packets(ofports)) {
      const verdict = await hv!.trace(flow)
      if (verdict !== realVerdicts.get(what)) differences.push(`${what} (${flow}):\n  real:    ${realVerdicts.get(what)}\n  ovnctl:  ${verdict}`)
    }
    assert.deepEqual(differences, [], `verdicts differ:\n${differences.join('\n')}`)
    assert.ok(realHairpin.split('\n').length >= 3, `the real controller made hairpin flows:\n${realHairpin}`)
    assert.equal(await hairpinTables(hv!), realHairpin, 'the load balancer hairpin flows (tables 68 and 70) are the same')
    const ours73to75 = await portSecurityTables(hv!)
    for (const table of ['73', '74', '75']) assert.ok(realPortSecurity[table].length > 0, `the real controller made port security flows in table ${table}`)
    assert.deepEqual(Object.fromEntries(Object.entries(ours73to75).map(([t, l]) => [t, l.length])), Object.fromEntries(Object.entries(realPortSecurity).map(([t, l]) => [t, l.length])), 'flow counts of tables 73-75')
    assert.deepEqual(ours73to75, realPortSecurity, 'the port security flows (tables 73-75) are the same')
  })

  it('keeps the installed flows across a restart of controller-run', async () => {
    const before = await flowCount(hv!)
    await ours!.stop()
    assert.equal(await flowCount(hv!), before, 'flows after controller-run stopped')
    const cache = path.join(hv!.dir, 'sb.cache')
    assert.ok(fs.existsSync(cache), 'controller-run wrote its Southbound replica at exit (--cache)')
    ours = startOurs(hv!, [`--cache=${cache}`])
    await eventually(async () => /last bundle:/.test(await hv!.appctl(ours!.ctl, 'connection-status').catch(() => '')), 30000, 'controller-run to install its table')
    const status = await hv!.appctl(ours!.ctl, 'connection-status')
    assert.match(status, /last bundle: 0 added, 0 deleted/, `the first install after a restart changes nothing:\n${status}\n${ours!.log()}`)
    // It caught up from its cache by the Southbound's history (nothing changed meanwhile), not by fetching every row.
    assert.match(ours!.log(), /Southbound: OVN_Southbound: resumed by history: 0 rows changed of \d+/, ours!.log())
    assert.equal(await flowCount(hv!), before)
  })

  it('reflects a new port incrementally, without a full recompute', async () => {
    const statusBefore = await hv!.appctl(ours!.ctl, 'connection-status')
    const full = Number(/full recomputes: (\d+)/.exec(statusBefore)![1])
    await central!.nbctl('lsp-add', 'sw0', 'sw0-p4', '--', 'lsp-set-addresses', 'sw0-p4', '00:00:00:00:00:04 10.0.0.14')
    await central!.nbctl('--wait=sb', 'sync')
    ofports['sw0-p4'] = await addVif(hv!, 'sw0-p4')
    await eventually(() => portsUp(central!, ['sw0-p4'], 'hv1'), 30000, 'sw0-p4 to come up')
    const verdict = await hv!.trace(`in_port=${ofports['sw0-p1']},icmp,dl_src=${m(1)},dl_dst=${m(4)},nw_src=10.0.0.11,nw_dst=10.0.0.14,nw_ttl=64,icmp_type=8`)
    assert.match(verdict, /,\d+$/, `a packet to sw0-p4 is delivered: ${verdict}`)
    const statusAfter = await hv!.appctl(ours!.ctl, 'connection-status')
    assert.equal(Number(/full recomputes: (\d+)/.exec(statusAfter)![1]), full, `no full recompute:\n${statusAfter}`)
  })

  it('updates port security flows incrementally as port_security changes and as the port leaves', async () => {
    const full = async () => Number(/full recomputes: (\d+)/.exec(await hv!.appctl(ours!.ctl, 'connection-status'))![1])
    const fullBefore = await full()
    const p4 = ofports['sw0-p4']
    const to4 = (ip: string) => hv!.trace(`in_port=${ofports['sw0-p3']},icmp,dl_src=${m(3)},dl_dst=${m(4)},nw_src=10.0.0.13,nw_dst=${ip},nw_ttl=64,icmp_type=8`)
    const spoofFrom4 = () => hv!.trace(`in_port=${p4},icmp,dl_src=${m(4)},dl_dst=${m(3)},nw_src=10.0.0.99,nw_dst=10.0.0.13,nw_ttl=64,icmp_type=8`)
    assert.match(await spoofFrom4(), /,\d+$/, 'without port security sw0-p4 may send from any address')
    // An entry without a MAC is logged with the port named; the port's good entry is still enforced.
    await central!.nbctl('lsp-set-port-security', 'sw0-p4', 'garbage 10.0.0.4', `${m(4)} 10.0.0.14`)
    // Not delivered: no output port at the end of the last pass (an egress drop may end in a ct() action).
    const delivered = (verdict: string) => /\d$/.test(verdict)
    await eventually(async () => !delivered(await spoofFrom4()), 30000, 'a spoofed source IP from sw0-p4 to be dropped')
    assert.match(await to4('10.0.0.14'), /,\d+$/, 'sw0-p4 still receives for its own address')
    assert.match(ours!.log(), /Port "sw0-p4": invalid syntax "garbage 10\.0\.0\.4" in port security: no MAC address found/, ours!.log())
    await central!.nbctl('lsp-set-port-security', 'sw0-p4', `${m(4)} 10.0.0.44`)
    await eventually(async () => !delivered(await to4('10.0.0.14')), 30000, 'a packet for the address sw0-p4 no longer owns to be dropped')
    assert.match(await to4('10.0.0.44'), /,\d+$/, 'sw0-p4 receives for its new address')
    assert.equal(await full(), fullBefore, 'no full recompute for a port_security change')
    const uuid = (await central!.sbctl('--bare', '--columns=_uuid', 'find', 'Port_Binding', 'logical_port=sw0-p4')).trim()
    const cookie = `cookie=0x${uuid.slice(0, 8).replace(/^0+/, '')},`
    const ofP4 = async () => Object.values(await portSecurityTables(hv!)).flat().filter((l) => l.includes(cookie))
    assert.ok((await ofP4()).length > 0, `port security flows of sw0-p4 (${cookie}) are installed`)
    await hv!.vsctl('del-port', 'br-int', 'sw0-p4')
    await eventually(async () => (await ofP4()).length === 0, 30000, 'the port security flows of sw0-p4 to leave with its VIF')
  })

  it('prints the flows of a port with their logical origin through flows-dump', async () => {
    const r = await ovnctl(['flows-dump', '--target', ours!.ctl, '--port', 'sw0-p1', '--format', 'ndjson'])
    assert.equal(r.code, 0, r.stderr)
    const records = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    assert.ok(records.some((x) => x.table === 0 && x.source === 'port:sw0-p1'), 'its table 0 classification flow')
    assert.ok(records.some((x) => x.table === 73 && x.source === 'port-security:sw0-p1'), 'its port security flows')
    assert.ok(records.some((x) => x.origin === 'lflow' && x.stage === 'ls_in_arp_rsp'), 'flows of logical flows that match on it (its ARP responder)')
    const sw = await ovnctl(['flows-dump', '--target', ours!.ctl, '--from', 'switch', '--table', '8', '--datapath', 'sw0', '--format', 'json'])
    assert.equal(sw.code, 0, sw.stderr)
    const installed = JSON.parse(sw.stdout) as Array<Record<string, unknown>>
    assert.ok(installed.length > 0 && installed.every((x) => x.origin === 'lflow' && typeof x.stage === 'string'), 'table 8 flows in the switch come from logical flows')
    const lines = (await hv!.appctl(ours!.ctl, 'flows/dump')).trim().split('\n')
    const status = await hv!.appctl(ours!.ctl, 'connection-status')
    assert.equal(lines.length, Number(/desired flows: (\d+)/.exec(status)![1]), 'flows/dump prints the whole desired table')
    assert.ok(lines.every((l) => / actions=/.test(l)), 'as ovs-ofctl lines')
  })

  it('makes the same table from its lflow cache as after lflow-cache/flush compiles every flow cold', async () => {
    await hv!.appctl(ours!.ctl, 'recompute')
    const warm = await hv!.appctl(ours!.ctl, 'flows/dump')
    const cached = (status: string) => Number(/in the lflow cache: (\d+)/.exec(status)?.[1])
    const before = await hv!.appctl(ours!.ctl, 'connection-status')
    assert.ok(cached(before) > 0, `compiled flows are cached:\n${before}`)
    await hv!.appctl(ours!.ctl, 'lflow-cache/flush')
    assert.equal(await hv!.appctl(ours!.ctl, 'flows/dump'), warm)
    const after = await hv!.appctl(ours!.ctl, 'connection-status')
    // The cold recompute fills the cache again with what it compiled; the warm cache may also hold flows that are
    // skipped now (a port that left this chassis: kept, and checked against its lookups if the port comes back).
    assert.ok(cached(after) > 0 && cached(after) <= cached(before) && cached(after) >= cached(before) - 5, `the cold recompute filled the cache again: ${cached(after)} of ${cached(before)}`)
    assert.match(after, /last bundle: 0 added, 0 deleted/, `nothing to change in the switch:\n${after}`)
  })
})
