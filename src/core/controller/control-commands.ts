/**
 * The controller's control socket commands (as `ovs-appctl -t SOCKET` or `ovnctl appctl` send them):
 * `exit`, `version`, `recompute` (ovn-controller(8) "recompute"), `lflow-cache/flush` (ovn-controller(8): empty the
 * cache of compiled logical flows and recompute), `connection-status`, `flows/dump` (the desired
 * table as ovs-ofctl lines) and `flows/json`, the desired table with each flow's logical origin, which
 * `ovnctl flows-dump` reads.
 */
import type {ControlServer} from '../server/control.js'
import {ofctlLine} from './flow-filter.js'
import type {Controller} from './controller.js'

/** One flow with its origin, as `flows/json` and `flows-dump` give it. */
export interface FlowRecord {
  table: number
  priority: number
  cookie: string
  match: string
  actions: string
  /** "lflow", "physical" */
  origin: string
  /** The logical flow's UUID, or what the physical flow is for (port:NAME, multicast:NAME, tunnel:CHASSIS ...). */
  source: string
  stage?: string
  lflow_match?: string
  lflow_actions?: string
}

/** What `flows/json` returns. */
export interface FlowsDocument {
  chassis: string
  /** How ovs-ofctl reaches the controller's switch. */
  switch: string
  datapaths: Array<{uuid: string; key: number; name: string}>
  ports: Array<{name: string; key: number; datapath: number}>
  flows: FlowRecord[]
  /** Origins by cookie ("0x..."), for annotating flows read from the switch. */
  cookies: Record<string, Omit<FlowRecord, 'table' | 'priority' | 'cookie' | 'match' | 'actions'>>
}

/** The desired table of `controller` as a document. */
export function flowsDocument(controller: Controller): FlowsDocument {
  const sb = controller.sb
  const local = controller.engine.local
  const doc: FlowsDocument = {
    chassis: controller.config?.systemId ?? '',
    switch: controller.switchTarget(),
    datapaths: [...local].map((u) => sb.datapaths.get(u)).filter((d) => d !== undefined).map((d) => ({uuid: d.uuid, key: d.key, name: d.name})),
    ports: [...sb.ports.values()].filter((p) => local.has(p.datapath)).map((p) => ({name: p.name, key: p.key, datapath: sb.datapaths.get(p.datapath)?.key ?? 0})),
    flows: [],
    cookies: {},
  }
  for (const f of controller.desired) {
    const lf = sb.lflows.get(f.origin)
    const origin = lf ? {origin: 'lflow', source: lf.uuid, stage: lf.stage, lflow_match: lf.match, lflow_actions: lf.actions} : {origin: 'physical', source: f.origin.replace(/^physical:/, '')}
    const cookie = `0x${f.cookie.toString(16)}`
    doc.flows.push({table: f.table, priority: f.priority, cookie, match: f.matchText, actions: f.actions || 'drop', ...origin})
    if (f.cookie !== 0n) doc.cookies[cookie] ??= origin
  }
  return doc
}

/** Registers the controller's commands on `control`. */
export function registerControllerCommands(control: ControlServer, controller: Controller, options: {version: string; exit: () => void}): void {
  control.register('exit', {usage: '', argsMin: 0, argsMax: 0, run: () => (setImmediate(options.exit), '')})
  control.register('version', {usage: '', argsMin: 0, argsMax: 0, run: () => `ovnctl controller-run ${options.version}\n`})
  const waitFor = (work: () => Promise<void>) => ({usage: '', argsMin: 0, argsMax: 0, run: async () => (await work(), '')})
  control.register('recompute', waitFor(() => controller.recompute()))
  control.register('lflow-cache/flush', waitFor(() => controller.flushLflowCache()))
  control.register('connection-status', {usage: '', argsMin: 0, argsMax: 0, run: () => controller.connectionStatus()})
  control.register('flows/json', {usage: '', argsMin: 0, argsMax: 0, run: () => JSON.stringify(flowsDocument(controller))})
  control.register('flows/dump', {
    usage: '',
    argsMin: 0,
    argsMax: 0,
    run: () => {
      const flows = [...flowsDocument(controller).flows].sort((a, b) => a.table - b.table || b.priority - a.priority || (a.match < b.match ? -1 : a.match > b.match ? 1 : 0))
      return flows.map((f) => ofctlLine(f) + '\n').join('')
    },
  })
}
