/**
 * What the relay and backup tests share: relay processes (db-serve relay:DB:REMOTES), their status on the control
 * socket, and a hypervisor whose ovn-controller reaches the southbound
 * through a relay. Every process is stopped by PID and every wait is bounded.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import type {RelayStatusJson} from '../../src/core/server/relay.js'
import {eventually, run, type ServerProcess, startDbServe} from '../interop/lib.js'

/** OVN's schemas as the OS packages install them. */
export const sbSchema = '/usr/share/ovn/ovn-sb.ovsschema'
export const vswitchSchema = '/usr/share/openvswitch/vswitch.ovsschema'

/** Starts `db-serve relay:DB:REMOTES` in `dir` on DIR/NAME.sock and DIR/NAME.ctl (log DIR/NAME.log), with `extra` flags. */
export function startRelay(dir: string, name: string, db: string, remotes: string, extra: string[] = []): Promise<ServerProcess> {
  return startDbServe(dir, [`relay:${db}:${remotes}`], [`--log-file=${path.join(dir, name + '.log')}`, ...extra], name)
}

/** relay/status-json of a db-serve, through ovs-appctl. */
export async function relayStatus(ctl: string): Promise<RelayStatusJson[]> {
  const r = await run('ovs-appctl', ['-t', ctl, 'relay/status-json'])
  assert.equal(r.code, 0, `ovs-appctl relay/status-json: ${r.stderr}`)
  return JSON.parse(r.stdout) as RelayStatusJson[]
}

/** Waits until every relay of `ctl` replicates; returns their status. */
export async function replicating(ctl: string, timeoutMs = 15_000): Promise<RelayStatusJson[]> {
  let last: RelayStatusJson[] = []
  await eventually(async () => (last = await relayStatus(ctl)).every((s) => s.state === 'replicating'), timeoutMs, `${ctl} to replicate (${JSON.stringify(last)})`)
  return last
}

/** A hypervisor without a switch: its own Open_vSwitch database and an ovn-controller told to use `sbRemote`. */
export class Hypervisor {
  private ovsdb: number | null = null
  private controller: number | null = null

  constructor(
    readonly dir: string,
    readonly name: string,
  ) {}

  /** Starts the Open_vSwitch database and ovn-controller (which registers chassis `name` in the southbound). */
  async start(sbRemote: string): Promise<void> {
    const d = (f: string) => path.join(this.dir, `${this.name}-${f}`)
    const env = {OVS_RUNDIR: this.dir, OVN_RUNDIR: this.dir}
    assert.equal((await run('ovsdb-tool', ['create', d('conf.db'), vswitchSchema])).code, 0)
    const started = await run('ovsdb-server', [`--remote=punix:${d('db.sock')}`, `--unixctl=${d('ovsdb.ctl')}`, '--no-chdir', '--detach', `--pidfile=${d('ovsdb.pid')}`, `--log-file=${d('ovsdb.log')}`, d('conf.db')], {env})
    assert.equal(started.code, 0, started.stderr)
    this.ovsdb = Number(fs.readFileSync(d('ovsdb.pid'), 'utf8'))
    const vsctl = (args: string[]) => run('ovs-vsctl', [`--db=unix:${d('db.sock')}`, '--no-wait', ...args], {env})
    assert.equal((await vsctl(['init'])).code, 0)
    const ids = [`external_ids:system-id=${this.name}`, `external_ids:ovn-remote=${sbRemote}`, 'external_ids:ovn-encap-type=geneve', 'external_ids:ovn-encap-ip=127.0.0.1']
    assert.equal((await vsctl(['set', 'open', '.', ...ids])).code, 0)
    const ctl = await run('ovn-controller', [`unix:${d('db.sock')}`, '--no-chdir', '--detach', `--pidfile=${d('controller.pid')}`, `--log-file=${d('controller.log')}`], {env})
    assert.equal(ctl.code, 0, ctl.stderr)
    this.controller = Number(fs.readFileSync(d('controller.pid'), 'utf8'))
  }

  /** The tail of ovn-controller's log, for failure messages. */
  log(): string {
    const file = path.join(this.dir, `${this.name}-controller.log`)
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').slice(-12).join('\n') : ''
  }

  /** Stops ovn-controller and the database by PID. */
  stop(): void {
    for (const pid of [this.controller, this.ovsdb]) {
      try {
        if (pid !== null) process.kill(pid, 'SIGTERM')
      } catch {}
    }
    this.controller = this.ovsdb = null
  }
}

/** Runs ovn-sbctl against `remote` as a relay client (relays are never leaders: --no-leader-only). */
export function sbctl(remote: string, args: string[]): ReturnType<typeof run> {
  return run('ovn-sbctl', ['--no-leader-only', `--db=${remote}`, '--timeout=20', ...args])
}
