/**
 * The OVN central side for controller tests: NB and SB served by ovnctl's db-serve, the real ovn-northd, and
 * the topology the end-to-end tests use (a switch with three ports, a second switch, a router between them,
 * ACLs, a load balancer; IPv4 and IPv6). Also starting controller-run and the real ovn-controller.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import {nbSchema, ok, runJs, sbSchema, type ServerProcess, startDbServe} from '../interop/lib.js'
import type {Hypervisor} from './hypervisor.js'

/** NB, SB and northd. */
export interface Central {
  nb: string
  sb: string
  nbctl(...args: string[]): Promise<string>
  sbctl(...args: string[]): Promise<string>
  stop(): Promise<void>
}

/** Starts db-serve for NB and SB in `dir`, and ovn-northd on them. */
export async function startCentral(dir: string): Promise<Central> {
  const servers: ServerProcess[] = []
  for (const [name, schema] of [['nb', nbSchema], ['sb', sbSchema]]) {
    const file = path.join(dir, `${name}.db`)
    await ok('ovnctl', ['db-create', file, schema])
    servers.push(await startDbServe(dir, [file], [], name))
  }
  const [nb, sb] = servers.map((s) => `unix:${s.sock}`)
  const northd = spawn('ovn-northd', [`--ovnnb-db=${nb}`, `--ovnsb-db=${sb}`, '--no-chdir', `--unixctl=${path.join(dir, 'northd.ctl')}`, `--log-file=${path.join(dir, 'northd.log')}`], {stdio: 'ignore'})
  return {
    nb,
    sb,
    nbctl: (...args) => ok('ovn-nbctl', [`--db=${nb}`, '--timeout=30', ...args], {timeoutMs: 40000}),
    sbctl: (...args) => ok('ovn-sbctl', [`--db=${sb}`, '--timeout=30', ...args], {timeoutMs: 40000}),
    stop: async () => {
      await stopChild(northd)
      for (const s of servers) await s.stop()
    },
  }
}

/** The logical ports of the topology: switch, port, MAC, IPv4, IPv6. */
export const topologyPorts = [
  ['sw0', 'sw0-p1', '00:00:00:00:00:01', '10.0.0.11', 'fd00::11'],
  ['sw0', 'sw0-p2', '00:00:00:00:00:02', '10.0.0.12', 'fd00::12'],
  ['sw0', 'sw0-p3', '00:00:00:00:00:03', '10.0.0.13', 'fd00::13'],
  ['sw1', 'sw1-p1', '00:00:00:00:01:01', '10.0.1.11', 'fd01::11'],
] as const

/** Builds the topology through the real ovn-nbctl and waits for northd to write the SB. */
export async function buildTopology(c: Central): Promise<void> {
  await c.nbctl('ls-add', 'sw0')
  await c.nbctl('ls-add', 'sw1')
  for (const [sw, port, mac, ip4, ip6] of topologyPorts) {
    await c.nbctl('lsp-add', sw, port, '--', 'lsp-set-addresses', port, `${mac} ${ip4} ${ip6}`)
  }
  await c.nbctl('lr-add', 'lr0')
  await c.nbctl('lrp-add', 'lr0', 'lr0-sw0', '00:00:00:00:ff:01', '10.0.0.1/24', 'fd00::1/64')
  await c.nbctl('lrp-add', 'lr0', 'lr0-sw1', '00:00:00:00:ff:02', '10.0.1.1/24', 'fd01::1/64')
  for (const [sw, rp] of [['sw0', 'lr0-sw0'], ['sw1', 'lr0-sw1']]) {
    const lsp = `${sw}-lr0`
    await c.nbctl('lsp-add', sw, lsp, '--', 'lsp-set-type', lsp, 'router', '--', 'lsp-set-addresses', lsp, 'router', '--', 'lsp-set-options', lsp, `router-port=${rp}`)
  }
  await c.nbctl('acl-add', 'sw0', 'from-lport', '1002', 'ip4 && tcp && tcp.dst == 22', 'drop')
  await c.nbctl('acl-add', 'sw0', 'to-lport', '1001', 'ip4 && icmp4', 'allow-related')
  await c.nbctl('lb-add', 'lb0', '10.0.0.100:80', '10.0.0.11:8080,10.0.0.12:8080', 'tcp')
  await c.nbctl('ls-lb-add', 'sw0', 'lb0')
  await c.nbctl('--wait=sb', 'sync')
}

/** A controller process (ours or the real one) on a hypervisor. */
export interface ControllerProcess {
  pid: number
  /** Its control socket. */
  ctl: string
  log(): string
  stop(): Promise<void>
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 10000)
  await exited
  clearTimeout(timer)
}

/** Starts `ovnctl controller-run` for `hv` (in its namespace, so that the bridge's sockets are its own). */
export function startOurs(hv: Hypervisor, extra: string[] = []): ControllerProcess {
  const ctl = path.join(hv.dir, 'ovnctl-controller.ctl')
  let log = ''
  const child = spawn('ip', ['netns', 'exec', hv.netns, process.execPath, runJs, 'controller-run', hv.db, `--unixctl=${ctl}`, ...extra], {stdio: ['ignore', 'ignore', 'pipe'], env: hv.env})
  child.stderr!.on('data', (d) => (log += d))
  return {pid: child.pid!, ctl, log: () => log, stop: () => stopChild(child)}
}

/** Starts the real ovn-controller for `hv`. */
export function startReal(hv: Hypervisor): ControllerProcess {
  const logFile = path.join(hv.dir, 'ovn-controller.log')
  const child = spawn('ip', ['netns', 'exec', hv.netns, 'ovn-controller', hv.db, '--no-chdir', `--log-file=${logFile}`], {stdio: 'ignore', env: hv.env})
  const ctl = path.join(hv.dir, `ovn-controller.${child.pid}.ctl`)
  return {pid: child.pid!, ctl, log: () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''), stop: () => stopChild(child)}
}
