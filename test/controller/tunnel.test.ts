import {spawn} from 'node:child_process'
import {eventually, ok, requireBuild, run, tempDir} from '../interop/lib.js'
import {addVif, canRunHypervisor, startHypervisor, type Hypervisor} from './hypervisor.js'
import {startCentral, startOurs, type Central, type ControllerProcess} from './stack.js'
import {configureTap, underlay} from './two-chassis.js'

/** A UDP echo server on 10.0.0.12:9999 that stops after 60 s. */
const udpEcho = `import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.0.0.12", 9999))
s.settimeout(60)
while True:
    data, peer = s.recvfrom(1500)
    s.sendto(b"echo:" + data, peer)`

/** Sends "hello" to the echo server and prints the answer; fails after 2 s. */
const udpClient = `import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(b"hello", ("10.0.0.12", 9999))
print(s.recvfrom(1500)[0].decode())`

describe('controller-run on two chassis, over Geneve tunnels', function () {
  this.timeout(300000)
  let tmp: ReturnType<typeof tempDir>
  let central: Central | undefined
  const hvs: Hypervisor[] = []
  const controllers: ControllerProcess[] = []
  const veth = [`ovv1-${process.pid % 100000}`, `ovv2-${process.pid % 100000}`]

  before(async function () {
    if (!(await canRunHypervisor())) this.skip()
    requireBuild()
    tmp = tempDir()
    central = await startCentral(tmp.dir)
    await central.nbctl('ls-add', 'sw0')
    for (const [p, mac, ip] of [['sw0-p1', '00:00:00:00:00:01', '10.0.0.11'], ['sw0-p2', '00:00:00:00:00:02', '10.0.0.12']]) {
      await central.nbctl('lsp-add', 'sw0', p, '--', 'lsp-set-addresses', p, `${mac} ${ip}`)
    }
    await central.nbctl('--wait=sb', 'sync')
    for (const [i, name] of ['hv1', 'hv2'].entries()) {
      hvs.push(await startHypervisor(tmp.dir, name, {'system-id': name, 'ovn-remote': central.sb, 'ovn-encap-type': 'geneve', 'ovn-encap-ip': `172.31.255.${i + 1}`}))
    }
    await ok('ip', ['link', 'add', veth[0], 'type', 'veth', 'peer', 'name', veth[1]])
    for (const [i, hv] of hvs.entries()) {
      await ok('ip', ['link', 'set', veth[i], 'netns', hv.netns])
      await underlay(hv, veth[i], `172.31.255.${i + 1}`)
    }
  })

  after(async () => {
    for (const c of controllers) await c.stop()
    for (const hv of hvs) await hv.stop()
    await central?.stop()
    tmp?.cleanup()
  })

  it('brings up a port on each chassis and makes a tunnel port to the other', async () => {
    for (const hv of hvs) controllers.push(startOurs(hv))
    await addVif(hvs[0], 'sw0-p1')
    await addVif(hvs[1], 'sw0-p2')
    await eventually(async () => (await central!.sbctl('--bare', '--columns=up', 'list', 'Port_Binding')).trim().split(/\s+/).join(',') === 'true,true', 60000, 'both ports up')
    for (const [i, hv] of hvs.entries()) {
      const other = `hv${2 - i}`
      await eventually(async () => Number((await hv.vsctl('get', 'Interface', `ovn-${other}-0`, 'ofport').catch(() => '-1')).trim()) > 0, 30000, `a tunnel port on ${hv.name} to ${other}`)
    }
  })

  it('sends a packet for the remote port into the tunnel with the datapath and port keys', async () => {
    const ofport = Number((await hvs[0].vsctl('get', 'Interface', 'sw0-p1', 'ofport')).trim())
    // Geneve header: VNI = datapath key 1, option class 0x0102 type 0x80 with ingress port 1 (bits 16-30) and egress port 2.
    const tunnelled = /tnl_push\(.*geneve\(.*vni=0x1.*class=0x102,type=0x80,len=4,0x10002/
    let verdict = ''
    await eventually(
      async () => tunnelled.test((verdict = await hvs[0].trace(`in_port=${ofport},udp,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,nw_src=10.0.0.11,nw_dst=10.0.0.12,nw_ttl=64,udp_dst=53`))),
      30000,
      `the packet to be tunnelled (last verdict: ${verdict})`,
    )
  })

  it('carries UDP both ways between the two chassis (ARP answered by OVN, the datagram and its echo tunnelled)', async () => {
    await configureTap(hvs[0], 'sw0-p1', '00:00:00:00:00:01', '10.0.0.11')
    await configureTap(hvs[1], 'sw0-p2', '00:00:00:00:00:02', '10.0.0.12')
    const echo = spawn('ip', ['netns', 'exec', hvs[1].netns, '/usr/bin/python3', '-c', udpEcho], {stdio: 'ignore'})
    try {
      let last = ''
      await eventually(
        async () => {
          const r = await run('ip', ['netns', 'exec', hvs[0].netns, '/usr/bin/python3', '-c', udpClient], {timeoutMs: 10000})
          last = (r.stdout + r.stderr).trim()
          return r.code === 0 && last === 'echo:hello'
        },
        30000,
        `a datagram from hv1 to be echoed by hv2 (last: ${last})`,
      )
    } finally {
      echo.kill('SIGTERM')
    }
  })
})
