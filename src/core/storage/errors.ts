/** Expected failures of the storage layer, each with a code a caller can branch on. */
export type StorageErrorCode =
  | 'exists' // create: the file is already there
  | 'locked' // another live ovnctl process has the file open for writing
  | 'clustered' // the file is a clustered database (ovsdb(5) "Clustered Format"), not supported yet
  | 'corrupt' // the schema record cannot be read, or the file is not an OVSDB file at all
  | 'limit' // a named limit was reached (the message names it)
  | 'closed' // the log was closed, or broken by an earlier I/O failure it could not undo
  | 'io' // the operating system refused a read, write, sync or rename

/** An expected storage failure: what failed, quoted values, then detail after a colon. */
export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options?: {cause?: unknown},
  ) {
    super(message, options)
    this.name = 'StorageError'
  }
}
