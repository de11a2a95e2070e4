/**
 * The control commands of db-serve, named and answered as ovsdb-server's (ovsdb-server(1) "Runtime
 * Management Commands"), so that `ovs-appctl -t SOCKET` scripts written for ovsdb-server keep working.
 */
import {ControlError, type ControlServer} from './control.js'
import type {OvsdbServer} from './server.js'

/** Registers exit, version, memory/show and the ovsdb-server/* commands on `control`. */
export function registerServerCommands(control: ControlServer, server: OvsdbServer, exit: () => void): void {
  control.register('exit', {usage: '', argsMin: 0, argsMax: 0, run: () => (setImmediate(exit), '')})
  control.register('version', {usage: '', argsMin: 0, argsMax: 0, run: () => `ovnctl db-serve ${server.version}\n`})
  control.register('memory/show', {
    usage: '',
    argsMin: 0,
    argsMax: 0,
    run: async () =>
      Object.entries({...server.memoryStats(), ...(await server.threadMemoryStats?.())})
        .map(([k, v]) => `${k}:${v}`)
        .join(' ') + '\n',
  })
  control.register('ovsdb-server/list-dbs', {usage: '', argsMin: 0, argsMax: 0, run: () => server.databaseNames().map((n) => n + '\n').join('')})
  control.register('ovsdb-server/compact', {
    usage: '[DB]...',
    argsMin: 0,
    argsMax: Infinity,
    run: async (args) => {
      const names = args.length > 0 ? args : server.databaseNames().filter((n) => n !== '_Server')
      for (const name of names) {
        const hosted = server.database(name)
        if (hosted === undefined || name === '_Server') throw new ControlError(`cannot compact "${name}": no such database`)
        await hosted.compact()
      }
      return ''
    },
  })
  control.register('ovsdb-server/list-remotes', {usage: '', argsMin: 0, argsMax: 0, run: () => [...server.remotes.list(), ...(server.threadRemotes?.() ?? [])].sort().map((r) => r + '\n').join('')})
  control.register('ovsdb-server/add-remote', {
    usage: 'REMOTE',
    argsMin: 1,
    argsMax: 1,
    run: async ([remote]) => {
      await server.remotes.configure([...server.remotes.configuredRemotes(), remote])
      return ''
    },
  })
  control.register('ovsdb-server/remove-remote', {
    usage: 'REMOTE',
    argsMin: 1,
    argsMax: 1,
    run: async ([remote]) => {
      const now = server.remotes.configuredRemotes()
      if (!now.includes(remote)) throw new ControlError(`${remote}: no such remote`)
      await server.remotes.configure(now.filter((r) => r !== remote))
      return ''
    },
  })
}
