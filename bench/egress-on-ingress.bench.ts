/**
 * The traffic the egress-on-ingress option saves (issue: hypervisor controller, "the egress pipeline on the
 * ingress chassis"): two chassis over Geneve (userspace datapaths in their own namespaces, a veth underlay),
 * switch sw0 with sw0-p1 on hv1 and sw0-p2 on hv2 and a stateless to-lport ACL dropping UDP to port 7777 on
 * sw0-p2. hv1 sends BENCH_PACKETS datagrams of BENCH_BYTES bytes, BENCH_DROP_PERCENT of them to the dropped port
 * and the rest to an allowed one; we count the packets and bytes leaving hv1 on the underlay (the veth's
 * kernel counters) and the datagrams delivered. Rows: the real ovn-controller on both chassis (egress on the
 * far chassis: it has no such option), controller-run with the option off, and with it on. Median of
 * BENCH_ROUNDS (default 3) runs each.
 */
import {requireBuild, tempDir} from '../test/interop/lib.js'
import {canRunHypervisor} from '../test/controller/hypervisor.js'
import {startOurs, startReal, type ControllerProcess} from '../test/controller/stack.js'
import {bindPorts, dropUdpTo, sendTraffic, startTwoChassis, waitEgressStatus, waitTunnelOption, type TrafficResult, type TwoChassis} from '../test/controller/two-chassis.js'
import {median} from './lib/stats.js'

const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const packets = Number(process.env.BENCH_PACKETS ?? 1000)
const bytes = Number(process.env.BENCH_BYTES ?? 500)
const dropPercent = Number(process.env.BENCH_DROP_PERCENT ?? 50)
const dropped = 7777
const allowed = 9999

const log = (m: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`)

/** Runs `rounds` traffic runs on a fresh two-chassis setup with controllers from `start`, after `configure`. */
async function measure(title: string, start: (setup: TwoChassis) => ControllerProcess[], configure: (setup: TwoChassis, cs: ControllerProcess[]) => Promise<void>): Promise<TrafficResult[]> {
  const tmp = tempDir()
  let setup: TwoChassis | undefined
  let controllers: ControllerProcess[] = []
  try {
    setup = await startTwoChassis(tmp.dir, (c) => dropUdpTo(c, dropped))
    controllers = start(setup)
    await bindPorts(setup)
    await configure(setup, controllers)
    const plan = [[dropped, Math.round((packets * dropPercent) / 100)], [allowed, packets - Math.round((packets * dropPercent) / 100)]] as const
    const results: TrafficResult[] = []
    for (let i = 0; i < rounds; i++) {
      const r = await sendTraffic(setup, plan, bytes)
      log(`${title}, round ${i + 1}: ${JSON.stringify(r)}`)
      results.push(r)
    }
    return results
  } finally {
    for (const c of controllers) await c.stop()
    await setup?.stop()
    tmp.cleanup()
  }
}

async function main(): Promise<void> {
  if (!(await canRunHypervisor())) throw new Error('This benchmark needs root, ovs-vswitchd and ip (network namespaces)')
  requireBuild()
  const none = async () => {}
  const on = async (setup: TwoChassis, cs: ControllerProcess[]) => {
    await setup.central.nbctl('set', 'NB_Global', '.', 'options:ovnctl-egress-on-ingress=sw0')
    for (const [i, hv] of setup.hvs.entries()) await waitEgressStatus(hv, cs[i], /egress on ingress: sw0: on/)
    await waitTunnelOption(setup, allowed, '0x80010002')
  }
  const rows: Array<[string, TrafficResult[]]> = [
    ['ovn-controller (egress on the far chassis)', await measure('ovn-controller', (s) => s.hvs.map((hv) => startReal(hv)), none)],
    ['controller-run, option off', await measure('controller-run off', (s) => s.hvs.map((hv) => startOurs(hv)), none)],
    ['controller-run, option on', await measure('controller-run on', (s) => s.hvs.map((hv) => startOurs(hv)), on)],
  ]
  const base = median(rows[1][1].map((r) => r.underlayBytes))
  const lines = [
    `\n## egress pipeline on the ingress chassis: ${packets} datagrams of ${bytes} bytes, ${dropPercent}% dropped by a to-lport ACL (median of ${rounds} rounds)`,
    '',
    '| controller | underlay packets | underlay bytes | delivered (allowed) | delivered (dropped port) | bytes vs option off |',
    '|---|---|---|---|---|---|',
  ]
  for (const [name, rs] of rows) {
    const m = (f: (r: TrafficResult) => number) => median(rs.map(f))
    lines.push(`| ${name} | ${m((r) => r.underlayPackets)} | ${m((r) => r.underlayBytes)} | ${m((r) => r.received[allowed])} | ${m((r) => r.received[dropped])} | ${(m((r) => r.underlayBytes) / base).toFixed(3)} |`)
  }
  console.log(lines.join('\n'))
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
