import assert from 'node:assert/strict'
import path from 'node:path'
import {connect} from '../../src/core/jsonrpc/index.js'
import {overrideSsl, readOpenVswitchSsl} from '../../src/core/server/ssl-config.js'
import {ok, startDbServe, startOvsdbServer, useTempDir} from './lib.js'

const vswitchSchema = '/usr/share/openvswitch/vswitch.ovsschema'

describe('SSL settings from a local Open_vSwitch database (for the hypervisor controller)', function () {
  this.timeout(60000)
  const tmp = useTempDir()

  for (const peer of ['ovsdb-server', 'ovnctl db-serve'] as const) {
    it(`reads what ovs-vsctl set-ssl wrote, from ${peer}`, async () => {
      const db = path.join(tmp.dir, `${peer.replace(/\W/g, '')}.db`)
      await ok('ovsdb-tool', ['create', db, vswitchSchema])
      const server = peer === 'ovsdb-server' ? await startOvsdbServer(tmp.dir, [db], 'vs-real') : await startDbServe(tmp.dir, [db], [], 'vs-ours')
      try {
        const vsctl = (args: string[]) => ok('ovs-vsctl', ['--no-wait', `--db=unix:${server.sock}`, ...args])
        await vsctl(['init'])
        const conn = await connect(`unix:${server.sock}`, {timeoutMs: 5000})
        assert.equal(await readOpenVswitchSsl(conn, 5000), null, 'no SSL row yet')
        await vsctl(['set-ssl', '/etc/pki/hv-key.pem', '/etc/pki/hv-cert.pem', '/etc/pki/ca.pem'])
        assert.deepEqual(await readOpenVswitchSsl(conn, 5000), {
          privateKey: '/etc/pki/hv-key.pem', certificate: '/etc/pki/hv-cert.pem', caCert: '/etc/pki/ca.pem', bootstrapCaCert: false,
        })
        await vsctl(['del-ssl'])
        await vsctl(['--bootstrap', 'set-ssl', '/k.pem', '/c.pem', '/boot-ca.pem'])
        const boot = await readOpenVswitchSsl(conn, 5000)
        assert.equal(boot?.bootstrapCaCert, true)
        // The database wins over flags, setting by setting, as in ovn-controller.
        const flags = {privateKey: '/flag-key.pem', certificate: '/flag-cert.pem', caCert: '/flag-ca.pem', protocols: 'TLSv1.3'}
        assert.deepEqual(overrideSsl(flags, boot), {privateKey: '/k.pem', certificate: '/c.pem', caCert: '/boot-ca.pem', bootstrapCaCert: true, protocols: 'TLSv1.3'})
        assert.deepEqual(overrideSsl(flags, null), flags)
        conn.close()
      } finally {
        await server.stop()
      }
    })
  }
})
