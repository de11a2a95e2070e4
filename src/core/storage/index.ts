/** Durable state of a standalone database: the ovsdb(5) file format, the file log, and when to compact it. */
export * from './errors.js'
export * from './log-format.js'
export * from './pid-lock.js'
export * from './file-log.js'
export * from './compaction-policy.js'
