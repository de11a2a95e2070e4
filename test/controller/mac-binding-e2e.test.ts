import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {eventually, requireBuild, run, tempDir} from '../interop/lib.js'
import {addVif, canRunHypervisor, startHypervisor, type Hypervisor} from './hypervisor.js'
import {buildTopology, startCentral, startOurs, startReal, topologyPorts, type Central, type ControllerProcess} from './stack.js'

/** sw1-p2 has a MAC and no IP in the NB, so northd makes no static ARP entry for it: routing to it needs a MAC binding. */
const p2mac = '00:00:00:00:01:02'

/** Packets whose fate depends on tables 66 (get_arp/get_nd) and 67 (lookup_arp/lookup_nd). */
function packets(port: Record<string, number>): Array<[string, string]> {
  const p1 = port['sw0-p1']
  const p2 = port['sw1-p2']
  return [
    ['IPv4 routed to an address with a learned binding', `in_port=${p1},icmp,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:ff:01,nw_src=10.0.0.11,nw_dst=10.0.1.12,nw_ttl=64,icmp_type=8`],
    ['IPv6 routed to an address with a learned binding', `in_port=${p1},udp6,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:ff:01,ipv6_src=fd00::11,ipv6_dst=fd01::12,nw_ttl=64,udp_dst=53`],
    ['IPv4 routed to an address with no binding', `in_port=${p1},icmp,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:ff:01,nw_src=10.0.0.11,nw_dst=10.0.1.77,nw_ttl=64,icmp_type=8`],
    ['IPv4 routed to a static binding', `in_port=${port['sw1-p1']},icmp,dl_src=00:00:00:00:01:01,dl_dst=00:00:00:00:ff:02,nw_src=10.0.1.11,nw_dst=10.0.0.50,nw_ttl=64,icmp_type=8`],
    ['IPv6 routed to a static binding', `in_port=${port['sw1-p1']},udp6,dl_src=00:00:00:00:01:01,dl_dst=00:00:00:00:ff:02,ipv6_src=fd01::11,ipv6_dst=fd00::50,nw_ttl=64,udp_dst=53`],
    ['an ARP request from a known neighbour (lookup_arp hits)', `in_port=${p2},arp,dl_src=${p2mac},dl_dst=ff:ff:ff:ff:ff:ff,arp_spa=10.0.1.12,arp_tpa=10.0.1.1,arp_op=1,arp_sha=${p2mac}`],
    ['an ARP request from a new neighbour (lookup_arp misses)', `in_port=${p2},arp,dl_src=${p2mac},dl_dst=ff:ff:ff:ff:ff:ff,arp_spa=10.0.1.99,arp_tpa=10.0.1.1,arp_op=1,arp_sha=${p2mac}`],
    ['a neighbour advertisement from a known neighbour (lookup_nd hits)', `in_port=${p2},icmp6,dl_src=${p2mac},dl_dst=00:00:00:00:ff:02,ipv6_src=fd01::12,ipv6_dst=fd01::1,nw_ttl=255,icmpv6_type=136,icmpv6_code=0,nd_target=fd01::12,nd_tll=${p2mac}`],
  ]
}

/** Whether every port is up and bound to a chassis (after chassis-del, until a controller claims them again). */
async function portsUp(c: Central, names: readonly string[]): Promise<boolean> {
  for (const name of names) {
    const [up, chassis] = (await c.sbctl('--bare', '--columns=up,chassis', 'find', 'Port_Binding', `logical_port=${name}`)).trim().split('\n').filter((l) => l.trim() !== '')
    if (up !== 'true' || !chassis) return false
  }
  return true
}

/** Tables 66 and 67 as the switch prints them, sorted. */
async function neighbourTables(hv: Hypervisor): Promise<string[]> {
  const lines: string[] = []
  for (const table of ['66', '67']) {
    const r = await run('ovs-ofctl', ['-O', 'OpenFlow15', 'dump-flows', '--no-stats', '--no-names', `unix:${hv.dir}/br-int.mgmt`, `table=${table}`])
    assert.equal(r.code, 0, r.stderr)
    lines.push(...r.stdout.split('\n').filter((l) => l.includes('actions=')).map((l) => l.trim()))
  }
  return lines.sort()
}

describe('controller-run MAC binding flows end to end, against the real ovn-controller', function () {
  this.timeout(300000)
  let tmp: ReturnType<typeof tempDir>
  let central: Central | undefined
  let hv: Hypervisor | undefined
  let ours: ControllerProcess | undefined
  let real: ControllerProcess | undefined
  const ofports: Record<string, number> = {}
  const realVerdicts = new Map<string, string>()
  let realTables: string[] = []
  const logFile = () => path.join(hv!.dir, 'controller-run.log')
  const ourLog = () => (fs.existsSync(logFile()) ? fs.readFileSync(logFile(), 'utf8') : '')
  const names = [...topologyPorts.map((p) => p[1]), 'sw1-p2']

  before(async function () {
    if (!(await canRunHypervisor())) this.skip()
    requireBuild()
    tmp = tempDir()
    central = await startCentral(tmp.dir)
    await buildTopology(central)
    await central.nbctl('lsp-add', 'sw1', 'sw1-p2', '--', 'lsp-set-addresses', 'sw1-p2', p2mac)
    await central.nbctl('static-mac-binding-add', 'lr0-sw0', '10.0.0.50', '00:00:00:00:00:50')
    await central.nbctl('static-mac-binding-add', 'lr0-sw0', 'fd00::50', '00:00:00:00:00:51')
    await central.nbctl('set', 'Static_MAC_Binding', (await central.nbctl('--bare', '--columns=_uuid', 'find', 'Static_MAC_Binding', 'ip="fd00::50"')).trim(), 'override_dynamic_mac=true')
    await central.nbctl('--wait=sb', 'sync')
    const lr0 = (await central.sbctl('--bare', '--columns=_uuid', 'find', 'Datapath_Binding', 'external_ids:name=lr0')).trim()
    // Learned by "another chassis": written straight into the Southbound, as that chassis' put_arp/put_nd would.
    for (const [port, ip, mac] of [['lr0-sw1', '10.0.1.12', p2mac], ['lr0-sw1', '"fd01::12"', p2mac], ['lr0-sw1', 'bogus', '"00:00:00:00:01:03"'], ['nosuch', '10.0.1.13', '"00:00:00:00:01:03"']]) {
      await central.sbctl('create', 'MAC_Binding', `logical_port=${port}`, `ip=${ip}`, `mac=${mac.startsWith('"') ? mac : `"${mac}"`}`, `datapath=${lr0}`)
    }
    hv = await startHypervisor(tmp.dir, 'hv1', {'system-id': 'hv1', 'ovn-remote': central.sb, 'ovn-encap-type': 'geneve', 'ovn-encap-ip': '127.0.0.1', 'ovn-bridge': 'br-int'})
    for (const name of names) ofports[name] = await addVif(hv, name)
  })

  after(async () => {
    await real?.stop()
    await ours?.stop()
    await hv?.stop()
    await central?.stop()
    tmp?.cleanup()
  })

  it('records the real ovn-controller\'s tables 66 and 67 and its verdicts', async () => {
    real = startReal(hv!)
    await eventually(() => portsUp(central!, names), 60000, 'the real ovn-controller to bring every port up')
    await central!.nbctl('--wait=hv', 'sync')
    await eventually(async () => (await neighbourTables(hv!)).length === 8, 30000, 'the real controller\'s neighbour flows')
    realTables = await neighbourTables(hv!)
    for (const [what, flow] of packets(ofports)) realVerdicts.set(what, await hv!.trace(flow))
    assert.match(realVerdicts.get('IPv4 routed to an address with a learned binding')!, new RegExp(`dst=${p2mac}`))
    await real.stop()
    real = undefined
    await central!.sbctl('chassis-del', 'hv1')
  })

  it('installs the same table 66 and 67 flows as the real controller and gives the same verdicts and destination MACs', async () => {
    assert.equal(realTables.length, 8, 'the real controller\'s tables were recorded')
    // The real controller leaves its flows in the switch when it stops: take tables 66 and 67 away so that
    // only controller-run can put them back.
    for (const table of ['66', '67']) await run('ovs-ofctl', ['del-flows', `unix:${hv!.dir}/br-int.mgmt`, `table=${table}`])
    assert.deepEqual(await neighbourTables(hv!), [])
    ours = startOurs(hv!, [`--log-file=${logFile()}`])
    await eventually(() => portsUp(central!, names), 60000, `controller-run to bring every port up; its log:\n${ourLog()}`)
    await eventually(async () => (await neighbourTables(hv!)).join('\n') === realTables.join('\n'), 30000, 'tables 66 and 67 to be the real controller\'s')
    const differences: string[] = []
    for (const [what, flow] of packets(ofports)) {
      const verdict = await hv!.trace(flow)
      if (verdict !== realVerdicts.get(what)) differences.push(`${what} (${flow}):\n  real:    ${realVerdicts.get(what)}\n  ovnctl:  ${verdict}`)
    }
    assert.deepEqual(differences, [], `verdicts differ:\n${differences.join('\n')}`)
    assert.match(ourLog(), /MAC_Binding \w{8} \(logical_port "lr0-sw1", ip "bogus".*bad ip "bogus"/)
    assert.match(ourLog(), /unknown logical port "nosuch"/)
  })

  it('follows MAC_Binding rows as they come and go, without restarting', async () => {
    const lr0 = (await central!.sbctl('--bare', '--columns=_uuid', 'find', 'Datapath_Binding', 'external_ids:name=lr0')).trim()
    await central!.sbctl('create', 'MAC_Binding', 'logical_port=lr0-sw1', 'ip=10.0.1.77', `mac="${p2mac}"`, `datapath=${lr0}`)
    const routed = packets(ofports).find(([w]) => w === 'IPv4 routed to an address with no binding')![1]
    await eventually(async () => (await neighbourTables(hv!)).length === 10, 30000, `the new binding's flows; log:\n${ourLog()}`)
    assert.match(await hv!.trace(routed), new RegExp(`dst=${p2mac}`))
    await central!.sbctl('--all', 'destroy', 'MAC_Binding')
    await eventually(async () => (await neighbourTables(hv!)).filter((l) => /priority=100,/.test(l)).length === 0, 30000, 'the learned bindings\' flows to go')
    assert.equal((await neighbourTables(hv!)).length, 4, 'the static bindings\' flows stay')
    assert.equal(await hv!.trace(routed), realVerdicts.get('IPv4 routed to an address with no binding'))
  })
})
