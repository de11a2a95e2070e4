/** The OVSDB engine (RFC 7047, ovsdb(7), ovsdb-server(7)): pure, no I/O, clock or randomness. */
export * from './atom.js';
export * from './condition.js';
export * from './database.js';
export * from './datum.js';
export * from './errors.js';
export { parseUuid, rowToJSON } from './json.js';
export * from './log-record.js';
export * from './mutation.js';
export * from './row.js';
export * from './schema.js';
export * from './transaction.js';
export * from './types.js';
