/**
 * Control commands of relays and active-backup replication on db-serve's control socket: the
 * ovsdb-server/*-active-ovsdb-server, sync-status and sync-exclude-tables commands of ovsdb-server(1)
 * "Runtime Management Commands", answered in ovsdb-server's words, plus ovnctl's `relay/status [DB]` (text)
 * and `relay/status-json [DB]` (what `ovnctl relay-status` reads): source, connection state, lag, clients.
 */
import {ControlError, type ControlServer} from './control.js'
import type {RelayDb, RelayStatusJson} from './relay.js'
import {type Replication, ReplicationError} from './replication.js'
import type {SourceLimits} from './relay-source.js'

/** The status of every relay and replicated database, or of `db` only. */
export function relayStatus(relays: ReadonlyMap<string, RelayDb>, replication: Replication, nowMs: number, db?: string): RelayStatusJson[] {
  const all = [...[...relays.values()].map((r) => r.status(nowMs)), ...replication.status(nowMs)]
  if (db === undefined) return all
  const one = all.filter((s) => s.database === db)
  if (one.length === 0) throw new ControlError(`${db}: not a relay or replicated database (relays and standalone databases are: ${all.map((s) => s.database).join(', ') || 'none'})`)
  return one
}

/** relay/status as text, one block per database. */
export function formatRelayStatus(list: RelayStatusJson[]): string {
  return list
    .map((s) =>
      [
        `Database: ${s.database}`,
        `Role: ${s.role}`,
        `Source: ${s.source || '(none)'}`,
        `Connected to: ${s.connectedTo ?? '(not connected)'}`,
        `State: ${s.state}${s.lastError ? ` (${s.lastError})` : ''}`,
        `Lag: ${s.lagMs === null ? 'unknown' : `${s.lagMs} ms`}`,
        `Clients: ${s.clients} (${s.monitors} monitors)`,
        `Last transaction: ${s.lastTxnId}`,
        `Forwarded transactions waiting: ${s.forwarding}`,
        `Connections: ${s.connects} (${s.fullSyncs} full snapshots, ${s.resumes} resumed), ${s.updates} updates`,
        `Last sync: ${s.syncMethod ?? 'none'}, ${s.syncRows} rows, ${s.syncBytes} bytes`,
        ...(s.excluded.length > 0 ? [`Excluded: ${s.excluded.join(',')}`] : []),
      ].join('\n') + '\n',
    )
    .join('\n')
}

function asControl<T>(run: () => T): T {
  try {
    return run()
  } catch (err) {
    if (err instanceof ReplicationError) throw new ControlError(err.message)
    throw err
  }
}

/** Registers the replication and relay commands on `control`. */
export function registerRelayCommands(control: ControlServer, relays: ReadonlyMap<string, RelayDb>, replication: Replication, limits: SourceLimits): void {
  const none = {usage: '', argsMin: 0, argsMax: 0}
  control.register('ovsdb-server/sync-status', {...none, run: () => replication.syncStatus()})
  control.register('ovsdb-server/get-active-ovsdb-server', {...none, run: () => (replication.active === null ? '' : `${replication.active}\n`)})
  control.register('ovsdb-server/set-active-ovsdb-server', {
    usage: 'SERVER',
    argsMin: 1,
    argsMax: 1,
    run: ([remote]) => asControl(() => (replication.setActive(remote), '')),
  })
  control.register('ovsdb-server/connect-active-ovsdb-server', {...none, run: () => asControl(() => (replication.becomeBackup(), ''))})
  control.register('ovsdb-server/disconnect-active-ovsdb-server', {...none, run: () => asControl(() => (replication.becomeActive(), ''))})
  control.register('ovsdb-server/get-sync-exclude-tables', {...none, run: () => (replication.excludedTables.length === 0 ? '' : `${replication.excludedTables.join(',')}\n`)})
  control.register('ovsdb-server/set-sync-exclude-tables', {
    usage: 'DB:TABLE[,DB:TABLE]...',
    argsMin: 1,
    argsMax: 1,
    run: ([tables]) => asControl(() => (replication.setExcluded(tables), '')),
  })
  control.register('ovsdb-server/set-active-ovsdb-server-probe-interval', {
    usage: 'PROBE-INTERVAL',
    argsMin: 1,
    argsMax: 1,
    run: ([text]) => {
      // ovsdb-server drops a silent active server after one probe interval without an answer to its echo.
      if (!/^\d+$/.test(text) || Number(text) < 1000) throw new ControlError(`Invalid probe interval "${text}": give milliseconds, at least 1000`)
      limits.sourceTimeoutMs = Number(text)
      return ''
    },
  })
  control.register('relay/status', {
    usage: '[DB]',
    argsMin: 0,
    argsMax: 1,
    run: ([db]) => formatRelayStatus(relayStatus(relays, replication, Date.now(), db)),
  })
  control.register('relay/status-json', {
    usage: '[DB]',
    argsMin: 0,
    argsMax: 1,
    run: ([db]) => JSON.stringify(relayStatus(relays, replication, Date.now(), db)),
  })
}
