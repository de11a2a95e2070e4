/**
 * controller-run reaches an ssl: Southbound with the key, certificate and CA of the local Open_vSwitch database's
 * SSL row (ovs-vsctl set-ssl), as ovn-controller does: without that row (and without SSL flags) it cannot
 * connect; once the row is set, it registers its chassis over TLS. The local database is the real ovsdb-server;
 * no switch is needed for registration.
 */
import assert from 'node:assert/strict'
import {type ChildProcess, spawn} from 'node:child_process'
import path from 'node:path'
import {eventually, ok, runJs, startDbServe, startOvsdbServer, type ServerProcess, useTempDir} from '../interop/lib.js'
import {freePort, pki, TestCa} from '../lib/pki.js'

const vswitchSchema = '/usr/share/openvswitch/vswitch.ovsschema'

describe('controller-run over ssl: with the Open_vSwitch SSL table', function () {
  this.timeout(120_000)
  const tmp = useTempDir()
  let sb: ServerProcess | null = null
  let ovs: ServerProcess | null = null
  let controller: ChildProcess | null = null
  let log = ''

  after(async () => {
    if (controller?.exitCode === null) {
      const exited = new Promise((r) => controller!.once('exit', r))
      controller.kill('SIGTERM')
      await exited
    }
    await ovs?.stop()
    await sb?.stop()
  })

  it('connects only once the SSL row is set, then registers its chassis over TLS', async () => {
    const ca = new TestCa(path.join(tmp.dir, 'pki'))
    const server = ca.issue('sb-server')
    const chassis = ca.issue('hv-ssl')
    const port = await freePort()
    const sbFile = path.join(tmp.dir, 'sb.db')
    await ok('ovnctl', ['db-create', sbFile, 'sb'])
    sb = await startDbServe(tmp.dir, [sbFile], [`--remote=pssl:${port}:127.0.0.1`, ...pki(server, ca)], 'sb')
    const ovsFile = path.join(tmp.dir, 'conf.db')
    await ok('ovsdb-tool', ['create', ovsFile, vswitchSchema])
    ovs = await startOvsdbServer(tmp.dir, [ovsFile], 'ovs')
    const vsctl = (...args: string[]) => ok('ovs-vsctl', [`--db=unix:${ovs!.sock}`, '--timeout=20', '--no-wait', ...args])
    await vsctl('init')
    await vsctl('add-br', 'br-int')
    const ids = {'system-id': 'hv-ssl', 'ovn-remote': `ssl:127.0.0.1:${port}`, 'ovn-encap-type': 'geneve', 'ovn-encap-ip': '127.0.0.1'}
    await vsctl('set', 'Open_vSwitch', '.', ...Object.entries(ids).map(([k, v]) => `external_ids:${k}="${v}"`))

    const ctl = path.join(tmp.dir, 'controller.ctl')
    controller = spawn(process.execPath, [runJs, 'controller-run', `unix:${ovs.sock}`, `--unixctl=${ctl}`, '-v', '--switch=unix:' + path.join(tmp.dir, 'no-switch.mgmt')], {stdio: ['ignore', 'ignore', 'pipe']})
    controller.stderr!.on('data', (d) => (log += d))
    const chassisRows = async () => (await ok('ovn-sbctl', [`--db=unix:${sb!.sock}`, '--bare', '--columns=name', 'list', 'Chassis'])).trim()
    await eventually(() => /Southbound database: ssl:.*Cannot use SSL: no private key/.test(log), 20_000, `controller-run to say it lacks SSL settings; its log: ${log}`)
    assert.equal(await chassisRows(), '', 'a chassis registered without SSL settings')

    await vsctl('set-ssl', chassis.key, chassis.cert, ca.cert)
    await eventually(async () => (await chassisRows()) === 'hv-ssl', 30_000, `chassis hv-ssl in the Southbound; controller log: ${log}`)
    const status = await ok('ovs-appctl', ['-t', ctl, 'connection-status'])
    assert.match(status, /^connected/, `connection-status: ${status}`)
  })
})
