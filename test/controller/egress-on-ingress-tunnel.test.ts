import assert from 'node:assert/strict'
import {ok, requireBuild, tempDir} from '../interop/lib.js'
import type {FlowsDocument} from '../../src/core/controller/control-commands.js'
import {asInstalled, keyed, parseInstalledFlows} from '../../src/core/openflow/bundle.js'
import {canRunHypervisor, type Hypervisor} from './hypervisor.js'
import {startOurs, startReal, type ControllerProcess} from './stack.js'
import {bindPorts, dropUdpTo, sendTraffic, startTwoChassis, waitEgressStatus, waitTunnelOption, type TrafficResult, type TwoChassis} from './two-chassis.js'

/** Datagrams sent to each UDP port per run. */
const count = 100
/** The port the to-lport ACL drops, and one it lets through. */
const dropped = 7777
const allowed = 9999
/** Datagrams that may be lost on the way (the userspace datapath under load), and underlay packets not ours. */
const slack = count / 10

/** Checks that none of the dropped port's datagrams and (nearly) all of the allowed port's arrived. */
function checkDelivery(r: TrafficResult): void {
  assert.equal(r.received[dropped], 0, `no datagram to the dropped port arrives: ${JSON.stringify(r)}`)
  assert.ok(r.received[allowed] >= count - slack, `the allowed datagrams arrive: ${JSON.stringify(r)}`)
}

/**
 * Starts, before the tests of the calling suite, the two chassis with a stateless to-lport ACL on sw0-p2 dropping
 * UDP to `dropped` (no allow-related ACL, no load balancer on sw0), the controllers `start` gives for hv1 and
 * hv2, and with `optionOn` the option for sw0; stops them after.
 */
function useTwoChassis(start: (hv: Hypervisor, index: number) => ControllerProcess, optionOn: boolean): {setup: () => TwoChassis; controllers: ControllerProcess[]} {
  let tmp: ReturnType<typeof tempDir> | undefined
  let setup: TwoChassis | undefined
  const controllers: ControllerProcess[] = []
  before(async function () {
    if (!(await canRunHypervisor())) this.skip()
    requireBuild()
    tmp = tempDir()
    setup = await startTwoChassis(tmp.dir, async (c) => {
      await dropUdpTo(c, dropped)
      if (optionOn) await c.nbctl('set', 'NB_Global', '.', 'options:ovnctl-egress-on-ingress=sw0')
    })
    for (const [i, hv] of setup.hvs.entries()) controllers.push(start(hv, i))
    await bindPorts(setup)
    if (optionOn) await waitTunnelOption(setup, allowed, '0x80010002')
  })
  after(async () => {
    for (const c of controllers) await c.stop()
    await setup?.stop()
    tmp?.cleanup()
  })
  return {setup: () => setup!, controllers}
}

describe('the egress pipeline on the ingress chassis, end to end over Geneve between two chassis', function () {
  this.timeout(300000)
  const {setup: ctx, controllers} = useTwoChassis((hv) => startOurs(hv), false)

  it('with the option off, sends the packets the far egress ACL drops across the underlay', async () => {
    const r = await sendTraffic(ctx(), [[dropped, count], [allowed, count]])
    checkDelivery(r)
    assert.ok(r.underlayPackets >= 2 * count - slack, `both kinds cross: ${JSON.stringify(r)}`)
  })

  it('with the option on for sw0, delivers the allowed packets and never puts the dropped ones on the underlay', async () => {
    await ctx().central.nbctl('set', 'NB_Global', '.', 'options:ovnctl-egress-on-ingress=sw0')
    for (const [i, hv] of ctx().hvs.entries()) await waitEgressStatus(hv, controllers[i], /egress on ingress: sw0: on/)
    // The Geneve option of an allowed packet: bit 31 (egress done), ingress port 1, egress port 2; none for a dropped one.
    await waitTunnelOption(ctx(), allowed, '0x80010002')
    const ofport = Number((await ctx().hvs[0].vsctl('get', 'Interface', 'sw0-p1', 'ofport')).trim())
    const dropTrace = await ctx().hvs[0].trace(`in_port=${ofport},udp,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,nw_src=10.0.0.11,nw_dst=10.0.0.12,nw_ttl=64,udp_dst=${dropped}`)
    assert.doesNotMatch(dropTrace, /tnl_push/)
    const r = await sendTraffic(ctx(), [[dropped, count], [allowed, count]])
    checkDelivery(r)
    assert.ok(r.underlayPackets >= count - slack && r.underlayPackets <= count + slack, `only the allowed packets cross: ${JSON.stringify(r)}`)
  })

  it('holds in the switch exactly the flows it wants, and a restart with the option on adds and deletes none', async () => {
    const hv1 = ctx().hvs[0]
    await controllers[0].stop()
    controllers[0] = startOurs(hv1)
    await waitEgressStatus(hv1, controllers[0], /last bundle:/)
    const status = await hv1.appctl(controllers[0].ctl, 'connection-status')
    assert.match(status, /egress on ingress: sw0: on/)
    assert.match(status, /last bundle: 0 added, 0 deleted/, `the first install after a restart removes and adds nothing:\n${status}\n${controllers[0].log()}`)
    const doc = JSON.parse(await hv1.appctl(controllers[0].ctl, 'flows/json')) as FlowsDocument
    const wanted = keyed(doc.flows.map((r) => asInstalled({table: r.table, priority: r.priority, cookie: BigInt(r.cookie), match: new Map(), matchText: r.match, actions: r.actions === 'drop' ? '' : r.actions})))
    const held = keyed(parseInstalledFlows(await ok('ovs-ofctl', ['-O', 'OpenFlow15', '--no-stats', 'dump-flows', `unix:${hv1.dir}/br-int.mgmt`])))
    const text = (m: Map<string, {cookie: bigint; actions: string}>) => [...m].map(([k, f]) => `${k} cookie=${f.cookie} ${f.actions}`).sort()
    assert.deepEqual(text(held), text(wanted))
    assert.ok([...held.values()].some((f) => f.matchText.includes('tun_metadata0=0x80000001/0x8000ffff')), 'the flagged tunnel flow is among them')
  })

  it('refuses the option, with the reason, once sw0 gets a stateful ACL, and tunnels without the flag again', async () => {
    await ctx().central.nbctl('--wait=sb', 'acl-add', 'sw0', 'to-lport', '1000', 'udp && udp.dst == 5555', 'allow-related')
    for (const [i, hv] of ctx().hvs.entries()) await waitEgressStatus(hv, controllers[i], /egress on ingress: sw0: refused: its egress pipeline needs conntrack on the port's chassis: egress stage ls_out_\w+ (requests conntrack|runs ct_)/)
    await waitTunnelOption(ctx(), allowed, '0x10002')
    assert.match(controllers[0].log(), /ovnctl-egress-on-ingress: refused for logical switch "sw0"/)
    const r = await sendTraffic(ctx(), [[dropped, count], [allowed, count]])
    checkDelivery(r)
    assert.ok(r.underlayPackets >= 2 * count - slack, `both kinds cross again: ${JSON.stringify(r)}`)
  })
})

describe('the egress pipeline on the ingress chassis, towards a chassis run by the real ovn-controller', function () {
  this.timeout(300000)
  const {setup: ctx} = useTwoChassis((hv, i) => (i === 0 ? startOurs(hv) : startReal(hv)), true)

  it('delivers the flagged packets (ovn-controller ignores bit 31 and runs the egress pipeline again) and keeps the dropped ones off the underlay', async () => {
    const r = await sendTraffic(ctx(), [[dropped, count], [allowed, count]])
    checkDelivery(r)
    assert.ok(r.underlayPackets >= count - slack && r.underlayPackets <= count + slack, `only the allowed packets cross: ${JSON.stringify(r)}`)
  })
})
