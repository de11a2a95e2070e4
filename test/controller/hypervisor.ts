/**
 * A hypervisor for end-to-end tests: a real ovsdb-server with the Open_vSwitch database and a real ovs-vswitchd
 * with the userspace datapath, inside a network namespace of their own (so their tap devices leave with it),
 * with sockets in a test directory (OVS_RUNDIR). Stopped by PID and namespace name.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import {eventually, ok, run} from '../interop/lib.js'

/** A running hypervisor. */
export interface Hypervisor {
  name: string
  netns: string
  dir: string
  env: NodeJS.ProcessEnv
  /** unix:DIR/db.sock */
  db: string
  vsctl(...args: string[]): Promise<string>
  appctl(target: string, ...args: string[]): Promise<string>
  /** `ofproto/trace br-int FLOW` following up to 4 conntrack recirculations; the "Datapath actions" lines joined. */
  trace(flow: string): Promise<string>
  stop(): Promise<void>
}

/** Whether the tests can make network namespaces and run the OVS daemons. */
export async function canRunHypervisor(): Promise<boolean> {
  if (process.getuid?.() !== 0) return false
  for (const tool of ['ovs-vswitchd', 'ovsdb-server', 'ip']) if ((await run('which', [tool])).code !== 0) return false
  return true
}

function waitForFile(file: string, timeoutMs: number): Promise<void> {
  return eventually(() => fs.existsSync(file), timeoutMs, `${file} to appear`)
}

/** Starts ovsdb-server and ovs-vswitchd in a new namespace, with a netdev br-int and the given external_ids. */
export async function startHypervisor(base: string, name: string, externalIds: Record<string, string>): Promise<Hypervisor> {
  const dir = path.join(base, name)
  fs.mkdirSync(dir, {recursive: true})
  const netns = `ovnctl-${name}-${process.pid}`
  const env = {...process.env, OVS_RUNDIR: dir, OVN_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir}
  await ok('ip', ['netns', 'add', netns])
  const children: ChildProcess[] = []
  const daemon = (cmd: string, args: string[]) => {
    const child = spawn('ip', ['netns', 'exec', netns, cmd, ...args], {stdio: 'ignore', env})
    children.push(child)
    return child
  }
  const conf = path.join(dir, 'conf.db')
  await ok('ovsdb-tool', ['create', conf, '/usr/share/openvswitch/vswitch.ovsschema'])
  daemon('ovsdb-server', [`--remote=punix:${dir}/db.sock`, `--unixctl=${dir}/ovsdb-server.ctl`, '--no-chdir', `--log-file=${dir}/ovsdb-server.log`, conf])
  await waitForFile(path.join(dir, 'db.sock'), 10000)
  const db = `unix:${dir}/db.sock`
  const vsctl = (...args: string[]) => ok('ovs-vsctl', [`--db=${db}`, '--timeout=20', ...args])
  await vsctl('--no-wait', 'init')
  daemon('ovs-vswitchd', [db, `--unixctl=${dir}/vswitchd.ctl`, '--no-chdir', `--log-file=${dir}/vswitchd.log`])
  await waitForFile(path.join(dir, 'vswitchd.ctl'), 10000)
  const ids = Object.entries(externalIds).map(([k, v]) => `external_ids:${k}=${JSON.stringify(v)}`)
  await vsctl('set', 'Open_vSwitch', '.', ...ids)
  await vsctl('--may-exist', 'add-br', 'br-int', '--', 'set', 'Bridge', 'br-int', 'datapath_type=netdev', 'fail-mode=secure', 'other-config:disable-in-band=true')
  const appctl = async (target: string, ...args: string[]) => {
    const r = await run('ovs-appctl', ['-t', target, ...args], {env})
    if (r.code !== 0) throw new Error(`ovs-appctl -t ${target} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`)
    return r.stdout
  }
  const trace = async (flow: string) => {
    const ct = Array.from({length: 4}, () => ['--ct-next', 'trk,new']).flat()
    const out = await appctl(path.join(dir, 'vswitchd.ctl'), 'ofproto/trace', 'br-int', flow, ...ct)
    return out
      .split('\n')
      .filter((l) => l.startsWith('Datapath actions:'))
      .map((l) => l.replace(/recirc\(0x[0-9a-f]+\)/g, 'recirc(N)').replace(/recirc_id=\d+/g, 'recirc_id=N'))
      .join(' | ')
  }
  const stop = async () => {
    for (const c of children.reverse()) {
      if (c.exitCode !== null || c.signalCode !== null) continue
      const exited = new Promise((r) => c.once('exit', r))
      c.kill('SIGTERM')
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))])
    }
    await run('ip', ['netns', 'delete', netns])
  }
  return {name, netns, dir, env, db, vsctl, appctl, trace, stop}
}

/** Adds an internal interface (a tap device of the userspace datapath) bound to logical port `iface`; returns its OpenFlow port. */
export async function addVif(hv: Hypervisor, iface: string): Promise<number> {
  await hv.vsctl('add-port', 'br-int', iface, '--', 'set', 'Interface', iface, 'type=internal', `external_ids:iface-id=${iface}`)
  let ofport = -1
  await eventually(
    async () => {
      ofport = Number((await hv.vsctl('get', 'Interface', iface, 'ofport')).trim())
      return ofport > 0
    },
    10000,
    `an OpenFlow port for ${iface}`,
  )
  return ofport
}
