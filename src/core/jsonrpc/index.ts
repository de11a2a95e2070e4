/** JSON-RPC 1.0 as OVSDB uses it: framing, connections, remotes. */
export * from './framing.js'
export * from './limits.js'
export * from './connection.js'
export * from './remote.js'
export * from './tls.js'
