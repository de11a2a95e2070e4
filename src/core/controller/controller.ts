/**
 * The hypervisor controller (ovn-controller(8) in ovnctl): one loop that reads the local Open_vSwitch database
 * and the Southbound, registers the chassis, claims the logical ports of local interfaces, narrows the
 * Southbound monitor to the local datapaths, keeps the logical flows compiled (incrementally, FlowEngine),
 * and installs the desired table into the switch as one atomic bundle of differences. The flows already in
 * the switch stay there until a new table replaces them, so a restart does not interrupt traffic.
 */
import os from 'node:os'
import {MonitoredDb, type TableMonitor} from '../idl/monitor.js'
import {overrideSsl, sslSettingsOfRow, TlsContextSource, type TlsSettings} from '../jsonrpc/index.js'
import type {ReplicaEvent} from '../idl/replica.js'
import type {BundleStats} from '../openflow/bundle.js'
import {OfctlSwitch} from '../openflow/switch.js'
import {type BridgeView, type ConfigOverrides, type ControllerConfig, ConfigError, readBridge, readConfig} from './config.js'
import {FlowEngine, type LflowError} from './engine.js'
import {Installer} from './installer.js'
import type {DesiredFlow} from './lflow.js'
import {ZoneTable, localDatapaths, missingPeers} from './local.js'
import {claimOp, installedOp, nbCfgOp, registerChassisOps, releaseOp, zoneOps} from './ops.js'
import {tunnelChanges} from './tunnels.js'
import {hairpinFlows, type LoadBalancer} from './lb-hairpin.js'
import {MacBindingFlowCache} from './mac-binding.js'
import {physicalFlows, type Tunnel} from './physical.js'
import {EgressOnIngress} from './egress-on-ingress.js'
import {SbIndex, noChanges, sbTables, type SbChanges} from './sb-index.js'
import {mapOf} from './sb-model.js'

/** How long changes are gathered before one run handles them together. */
export const runDelayMs = 20
/** How long to wait before trying again after a failed run (switch or database unreachable). */
export const retryDelayMs = 2000

/** A log sink: level and message. */
export type ControllerLog = (level: 'INFO' | 'WARN' | 'ERR' | 'DBG', message: string) => void

/** Statistics of the controller, for `connection-status` and benchmarks. */
export interface ControllerStats {
  runs: number
  fullRecomputes: number
  lastCompileMs: number
  lastInstallMs: number
  lastBundle?: BundleStats
  installs: number
  errors: number
}

const ovsTables = new Map<string, TableMonitor>([
  ['Open_vSwitch', {columns: ['external_ids', 'bridges', 'ssl']}],
  ['SSL', {columns: ['private_key', 'certificate', 'ca_cert', 'bootstrap_ca_cert']}],
  ['Bridge', {columns: ['name', 'ports', 'external_ids']}],
  ['Port', {columns: ['name', 'interfaces', 'external_ids']}],
  ['Interface', {columns: ['name', 'type', 'ofport', 'options', 'external_ids']}],
])

/** The controller. */
export class Controller {
  readonly sb = new SbIndex()
  readonly engine: FlowEngine
  readonly stats: ControllerStats = {runs: 0, fullRecomputes: 0, lastCompileMs: 0, lastInstallMs: 0, installs: 0, errors: 0}
  config: ControllerConfig | undefined
  private readonly ovs: MonitoredDb
  private sbDb: MonitoredDb | undefined
  private pending: SbChanges = noChanges()
  private forceRecompute = true
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  private again = false
  private retry = false
  private readonly installer = new Installer()
  private zones: ZoneTable | null = null
  private stopped = false
  private configProblem = ''
  private readonly reportedErrors = new Set<string>()
  /** The MAC binding flows (tables 66-67) of the last run, per row. */
  private readonly neighbours = new MacBindingFlowCache()
  private readonly egress = new EgressOnIngress((level, message) => this.log(level, message))

  constructor(
    ovsRemote: string,
    private readonly overrides: ConfigOverrides,
    private readonly log: ControllerLog,
    private readonly options: {switchTarget?: string; env?: NodeJS.ProcessEnv; ssl?: TlsSettings; sbCacheFile?: string} = {},
  ) {
    this.engine = new FlowEngine(this.sb, (port) => this.isResident(port))
    this.ovs = new MonitoredDb(ovsRemote, 'Open_vSwitch', ovsTables, {
      onEvents: () => this.schedule(),
      onState: (up, detail) => this.log(up ? 'INFO' : 'WARN', `Open_vSwitch database: ${detail}`),
    })
  }

  /** Starts connecting and working; returns at once. */
  start(): void {
    this.ovs.start()
  }

  /** Stops both connections (the flows stay in the switch), after writing the Southbound replica's cache file if any. */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.ovs.stop()
    await this.sbDb?.saveCache()
    this.sbDb?.stop()
  }

  /** How ovs-ofctl reaches the switch: --switch, else the bridge's management socket in the run directory. */
  switchTarget(): string {
    if (this.options.switchTarget) return this.options.switchTarget
    const rundir = (this.options.env ?? process.env).OVS_RUNDIR ?? '/var/run/openvswitch'
    return `unix:${rundir}/${this.config?.bridge ?? 'br-int'}.mgmt`
  }

  /** The flows the controller wants in the switch now. */
  get desired(): readonly DesiredFlow[] {
    return [...this.engine.table.flows()]
  }

  /** Asks for a full recompute and waits for it and its installation. */
  async recompute(): Promise<void> {
    this.forceRecompute = true
    this.installer.forget()
    this.schedule(0)
    await this.settle()
  }

  /** Empties the lflow cache, then recomputes (every logical flow compiled cold) and waits for it. */
  async flushLflowCache(): Promise<void> {
    await this.settle()
    this.engine.flushCache()
    await this.recompute()
  }

  /** Waits until no run is pending or running. */
  async settle(): Promise<void> {
    while (this.timer || this.running) {
      if (this.running) await this.running
      else await new Promise((r) => setTimeout(r, runDelayMs))
    }
  }

  /** Text of `connection-status`: each database's state, the chassis and the last run. */
  connectionStatus(): string {
    // The first line is what ovn-controller answers ("connected" or "not connected"), for scripts that read it.
    const lines = [
      this.sbDb?.connected ? 'connected' : 'not connected',
      `Open_vSwitch: ${this.ovs.status}`,
      `Southbound: ${this.sbDb ? `${this.sbDb.status} (${this.sbDb.remote})` : `not configured${this.configProblem ? `: ${this.configProblem}` : ''}`}`,
    ]
    if (this.config) lines.push(`chassis: ${this.config.systemId}`, `bridge: ${this.config.bridge}`)
    lines.push(`local datapaths: ${this.engine.local.size}`, `logical flows compiled: ${this.engine.size} (in the lflow cache: ${this.engine.cachedFlows})`, `desired flows: ${this.engine.table.size}`)
    lines.push(`runs: ${this.stats.runs} (full recomputes: ${this.stats.fullRecomputes}), installs: ${this.stats.installs}, errors: ${this.stats.errors}`)
    lines.push(`last compile: ${this.stats.lastCompileMs.toFixed(1)} ms, last install: ${this.stats.lastInstallMs.toFixed(1)} ms`)
    lines.push(...this.egress.statusLines())
    const b = this.stats.lastBundle
    if (b) lines.push(`last bundle: ${b.flowsAdded} added, ${b.flowsDeleted} deleted, ${b.flowsReplaced} replaced; groups ${b.groupsAdded} added, ${b.groupsDeleted} deleted, ${b.groupsReplaced} replaced`)
    return lines.join('\n') + '\n'
  }

  private schedule(delayMs = runDelayMs): void {
    if (this.stopped) return
    if (this.running) return void (this.again = true)
    if (this.timer) return
    this.timer = setTimeout(() => {
      this.timer = null
      this.running = this.run()
        .catch((err) => {
          this.stats.errors++
          this.log('ERR', `run failed: ${(err as Error).message}`)
          this.retry = true
        })
        .finally(() => {
          this.running = null
          if (this.again) (this.again = false), this.schedule()
          else if (this.retry) (this.retry = false), this.schedule(retryDelayMs)
        })
    }, delayMs)
  }

  private onSbEvents(events: ReplicaEvent[]): void {
    const ch = this.sb.apply(events)
    const p = this.pending
    for (const k of ['lflows', 'ports', 'addressSets', 'portGroups'] as const) for (const x of ch[k]) p[k].add(x)
    p.datapaths ||= ch.datapaths
    p.multicast ||= ch.multicast
    p.chassis ||= ch.chassis
    this.schedule()
  }

  private ensureSb(config: ControllerConfig): void {
    if (this.sbDb && this.sbDb.remote === config.remote) return
    this.sbDb?.stop()
    // SbIndex keeps what it needs of the big tables; only the small ones read directly are kept as JSON too.
    const direct = new Set(['SB_Global', 'Chassis_Private'])
    const tables = new Map<string, TableMonitor>(Object.entries(sbTables).map(([t, columns]) => [t, {columns, keepRows: direct.has(t)}]))
    if (!config.monitorAll) {
      // Until the local view is known, only our own chassis' rows and ports (ovn-controller's update_sb_monitors).
      for (const t of ['Port_Binding', 'Logical_Flow', 'Multicast_Group', 'MAC_Binding', 'Static_MAC_Binding']) tables.get(t)!.where = [false]
    }
    // An ssl: Southbound uses the local Open_vSwitch database's SSL row over the flags, as ovn-controller does;
    // read at every connection attempt, so that a key set later (ovs-vsctl set-ssl) is used on the next one.
    const tls = new TlsContextSource(
      () => overrideSsl(this.options.ssl ?? {}, this.ovsSsl()),
      (level, m) => this.log(level, `Southbound SSL: ${m}`),
    )
    this.sbDb = new MonitoredDb(config.remote, 'OVN_Southbound', tables, {
      onEvents: (events) => this.onSbEvents(events),
      onReset: () => {
        this.sb.clear()
        this.forceRecompute = true
      },
      onState: (up, detail) => {
        this.log(up ? 'INFO' : 'WARN', `Southbound database: ${detail}`)
        if (up) this.schedule()
      },
    }, {tls, cacheFile: this.options.sbCacheFile, log: (level, m) => this.log(level, `Southbound: ${m}`)})
    this.sbDb.start()
  }

  private async run(): Promise<void> {
    const begun = performance.now()
    this.stats.runs++
    const config = this.readConfig()
    if (!config) return
    const bridge = readBridge(config.bridge, {Bridge: this.ovs.table('Bridge'), Port: this.ovs.table('Port'), Interface: this.ovs.table('Interface')})
    if (!bridge) return this.log('WARN', `Bridge "${config.bridge}" does not exist: create it (ovs-vsctl add-br ${config.bridge})`)
    this.ensureSb(config)
    const sb = this.sbDb!
    if (!sb.connected) return
    const me = await this.ensureChassis(config, sb)
    await this.bindPorts(bridge, me, sb)
    const local = localDatapaths(this.sb, bridge.vifs, me)
    // Until the monitor conditions stop growing, the replica lacks rows of the local datapaths: installing now
    // would remove flows that are still right (on a restart, all of them). Run again with the new rows.
    if (!config.monitorAll && (await this.updateConditions(sb, bridge, local))) return this.schedule(0)
    await this.updateZones(bridge, local)
    await this.updateTunnels(config, bridge)
    const started = performance.now()
    const changes = this.pending
    this.pending = noChanges()
    this.engine.setLocalPorts(this.localPorts(bridge, me))
    const sbGlobal = mapOf([...sb.table('SB_Global').values()][0]?.options)
    if (this.engine.setEgressOnIngress(this.egress.update(sbGlobal, {encapType: config.encapType, datapaths: this.sb.datapaths, local, lflows: this.sb.lflows.values(), dpGroups: this.sb.dpGroups}))) this.forceRecompute = true
    const run = this.forceRecompute ? this.engine.recompute(local) : this.engine.update(changes, local)
    this.forceRecompute = false
    if (run.full) this.stats.fullRecomputes++
    this.report(run.errors)
    const onLocal = (lb: LoadBalancer) => lb.datapaths.some((d) => local.has(d)) || (this.sb.dpGroups.get(lb.datapathGroup ?? '') ?? []).some((d) => local.has(d))
    const neighbours = this.neighbours.flows({bindings: this.sb.macBindings.values(), portByName: this.sb.portsByName, datapaths: this.sb.datapaths, local})
    // Bad MAC_Binding rows are looked at again at every run: each is logged once.
    for (const m of neighbours.errors) this.reportOnce('mac-binding', m)
    const physical = [...physicalFlows(this.physicalInput(bridge, local, me)), ...hairpinFlows(this.sb.loadBalancers.values(), onLocal), ...neighbours.flows]
    const desired = this.engine.desired(physical)
    this.stats.lastCompileMs = performance.now() - started
    await this.install(config, desired)
    await this.markUp(bridge, me, sb)
    this.log('DBG', `run ${this.stats.runs}: ${run.full ? 'full' : 'incremental'}, ${run.compiled} logical flows compiled (${run.fromCache} from the cache) in ${this.stats.lastCompileMs.toFixed(0)} ms, installed in ${this.stats.lastInstallMs.toFixed(0)} ms, whole run ${(performance.now() - begun).toFixed(0)} ms`)
  }

  /** The SSL row the Open_vSwitch row names, if any (vswitch.ovsschema Open_vSwitch "ssl"). */
  private ovsSsl(): TlsSettings | null {
    const row = [...this.ovs.table('Open_vSwitch').values()][0]
    const ref = row?.ssl
    const uuid = Array.isArray(ref) && ref[0] === 'uuid' ? String(ref[1]) : null
    const ssl = uuid === null ? undefined : this.ovs.table('SSL').get(uuid)
    return ssl === undefined ? null : sslSettingsOfRow(ssl)
  }

  private readConfig(): ControllerConfig | undefined {
    const row = [...this.ovs.table('Open_vSwitch').values()][0]
    if (!row) return undefined
    try {
      this.config = readConfig(mapOf(row.external_ids), this.overrides)
      this.configProblem = ''
      return this.config
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err
      if (this.configProblem !== err.message) this.log('WARN', err.message)
      this.configProblem = err.message
      return undefined
    }
  }

  /** Logical ports with an interface here or bound to this chassis (ovn-controller's local lports). */
  private localPorts(bridge: BridgeView, me: string): Set<string> {
    const out = new Set<string>()
    for (const name of bridge.vifs.keys()) if (this.sb.portsByName.has(name)) out.add(name)
    for (const p of this.sb.ports.values()) if (p.chassis === me) out.add(p.name)
    return out
  }

  private isResident(port: string): boolean {
    const p = this.sb.portsByName.get(port)
    const me = this.config && this.sb.chassisByName(this.config.systemId)
    return p !== undefined && me !== undefined && p.chassis === me.uuid
  }

  private async ensureChassis(config: ControllerConfig, sb: MonitoredDb): Promise<string> {
    const mine = this.sb.chassisByName(config.systemId)
    const privateExists = [...sb.table('Chassis_Private').values()].some((r) => r.name === config.systemId)
    const encapOk = mine?.encaps.some((e) => e.type === config.encapType && e.ip === config.encapIp)
    if (mine && encapOk && privateExists) return mine.uuid
    const results = (await sb.transact(registerChassisOps(config, os.hostname(), mine && {uuid: mine.uuid, privateExists}))) as Array<{uuid?: unknown[]}>
    this.log('INFO', `${mine ? 'Updated' : 'Registered'} chassis "${config.systemId}" (${config.encapType} ${config.encapIp})`)
    return mine?.uuid ?? String(results[1].uuid![1])
  }

  private async bindPorts(bridge: BridgeView, me: string, sb: MonitoredDb): Promise<void> {
    const ops: unknown[] = []
    for (const name of bridge.vifs.keys()) {
      const p = this.sb.portsByName.get(name)
      if (p && p.chassis !== me && (p.type === '' || p.type === 'virtual')) {
        ops.push(claimOp(p.uuid, me, false))
        this.log('INFO', `Claiming lport ${name} for this chassis`)
      }
    }
    for (const p of this.sb.ports.values()) {
      if (p.chassis === me && p.type === '' && !bridge.vifs.has(p.name)) {
        ops.push(releaseOp(p.uuid))
        this.log('INFO', `Releasing lport ${p.name} from this chassis`)
      }
    }
    if (ops.length > 0) await sb.transact(ops)
  }

  private async markUp(bridge: BridgeView, me: string, sb: MonitoredDb): Promise<void> {
    const sbOps: unknown[] = []
    const ovsOps: unknown[] = []
    for (const [name, iface] of bridge.vifInterfaces) {
      const p = this.sb.portsByName.get(name)
      if (!p || p.chassis !== me) continue
      if (p.up !== true) sbOps.push(claimOp(p.uuid, me, true))
      const ids = mapOf(this.ovs.table('Interface').get(iface)?.external_ids)
      if (ids['ovn-installed'] !== 'true') ovsOps.push(installedOp(iface))
    }
    const nbCfg = Number([...sb.table('SB_Global').values()][0]?.nb_cfg ?? 0)
    for (const [uuid, row] of sb.table('Chassis_Private')) {
      if (row.name === this.config?.systemId && Number(row.nb_cfg) !== nbCfg) sbOps.push(nbCfgOp(uuid, nbCfg))
    }
    if (sbOps.length > 0) await sb.transact(sbOps)
    if (ovsOps.length > 0) await this.ovs.transact(ovsOps)
  }

  /** Narrows (or widens) the Southbound monitor to the local view; true when a condition changed. */
  private async updateConditions(sb: MonitoredDb, bridge: BridgeView, local: ReadonlySet<string>): Promise<boolean> {
    const dps = [...local].sort().map((u) => ['uuid', u])
    const names = [...new Set([...bridge.vifs.keys(), ...missingPeers(this.sb, local)])].sort()
    const me = this.config && this.sb.chassisByName(this.config.systemId)
    const changed = await sb.setCondition('Port_Binding', orFalse([
      ...dps.map((d) => ['datapath', '==', d]),
      ...names.map((n) => ['logical_port', '==', n]),
      ...(me ? [['chassis', '==', ['uuid', me.uuid]]] : []),
    ]))
    const groups = [...this.sb.dpGroups].filter(([, members]) => members.some((m) => local.has(m))).map(([g]) => g).sort()
    const lflows = await sb.setCondition('Logical_Flow', orFalse([...dps.map((d) => ['logical_datapath', '==', d]), ...groups.map((g) => ['logical_dp_group', '==', ['uuid', g]])]))
    // Multicast groups and MAC bindings of the local datapaths only, as ovn-controller's update_sb_monitors does.
    let byDatapath = false
    for (const t of ['Multicast_Group', 'MAC_Binding', 'Static_MAC_Binding']) if (await sb.setCondition(t, orFalse(dps.map((d) => ['datapath', '==', d])))) byDatapath = true
    return changed || lflows || byDatapath
  }

  private async updateZones(bridge: BridgeView, local: ReadonlySet<string>): Promise<void> {
    this.zones ??= new ZoneTable(bridge.externalIds)
    const keys = [...bridge.vifs.keys()].filter((n) => this.sb.portsByName.has(n))
    for (const dp of local) keys.push(`${dp}_dnat`, `${dp}_snat`)
    const changes = this.zones.update(keys)
    if (changes.size > 0) await this.ovs.transact(zoneOps(bridge.uuid, changes))
  }

  private async updateTunnels(config: ControllerConfig, bridge: BridgeView): Promise<void> {
    const {ops, added} = tunnelChanges(config, bridge, this.sb.chassis())
    for (const line of added) this.log('INFO', `Adding ${line}`)
    if (ops.length > 0) await this.ovs.transact(ops)
  }

  private physicalInput(bridge: BridgeView, local: ReadonlySet<string>, me: string) {
    const tunnels = new Map<string, Tunnel>()
    for (const [name, t] of bridge.tunnels) if (t.ofport > 0) tunnels.set(name, {chassis: name, ofport: t.ofport, type: t.type === 'vxlan' ? 'vxlan' : 'geneve'})
    const zones = this.zones!
    return {
      datapaths: this.sb.datapaths,
      local,
      ports: [...this.sb.ports.values()],
      portByName: this.sb.portsByName,
      portByUuid: this.sb.ports,
      multicast: [...this.sb.multicast.values()],
      vifs: bridge.vifs,
      chassis: me,
      chassisNames: new Map(this.sb.chassis().map((c) => [c.uuid, c.name])),
      tunnels,
      egressOnIngress: this.egress.plan.datapaths,
      onPortSecurityProblem: (port: string, message: string) => this.reportOnce(`port ${port}`, `Port "${port}": ${message}`),
      zones: {port: (n: string) => zones.get(n), dnat: (dp: {uuid: string}) => zones.dnat(dp as never), snat: (dp: {uuid: string}) => zones.snat(dp as never)},
    }
  }

  private reportOnce(key: string, message: string): void {
    if (this.reportedErrors.has(`${key}/${message}`)) return
    this.reportedErrors.add(`${key}/${message}`)
    this.log('WARN', message)
  }

  private report(errors: readonly LflowError[]): void {
    for (const e of errors) this.reportOnce(e.uuid, `Logical flow ${e.uuid.slice(0, 8)} (${e.stage}) not installed: ${e.message}; match "${e.match}", actions "${e.actions}"`)
  }

  private async install(config: ControllerConfig, desired: ReturnType<FlowEngine['desired']>): Promise<void> {
    const sw = new OfctlSwitch(this.switchTarget(), this.options.env)
    const started = performance.now()
    const {lines, stats, flows} = await this.installer.install(sw, {table: this.engine.table, ...desired}, {geneve: config.encapType === 'geneve'})
    this.stats.lastInstallMs = performance.now() - started
    this.stats.lastBundle = stats
    if (lines > 0) {
      this.stats.installs++
      this.log('INFO', `Installed ${flows} flows: ${stats.flowsAdded} added, ${stats.flowsDeleted} deleted, ${stats.flowsReplaced} replaced, ${stats.groupsAdded + stats.groupsReplaced} groups set, ${stats.groupsDeleted} removed`)
    }
  }
}

/** A monitor condition of clauses ORed; no clause must match no row (an empty condition matches every row). */
function orFalse(clauses: unknown[]): unknown[] {
  return clauses.length > 0 ? clauses : [false]
}
