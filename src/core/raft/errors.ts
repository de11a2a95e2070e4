/**
 * Expected failures of requests made to the Raft core. Each carries the status string OVS uses in its
 * raft-rpc replies and cluster/* command errors, so a driver can report it as is.
 */
import type {ServerId} from './types.js'

/** Base class of the Raft core's expected failures. */
export class RaftError extends Error {
  constructor(readonly status: string, message: string) {
    super(message)
    this.name = 'RaftError'
  }
}

/** The request needs the leader and this server is not it; `leader` tells where it is, if known. */
export class NotLeaderError extends RaftError {
  constructor(readonly leader: ServerId | null, what: string) {
    super('not leader', `Cannot ${what}: not leader${leader === null ? ', no leader known' : `, leader is "${leader}"`}`)
    this.name = 'NotLeaderError'
  }
}

/** The leader cannot take the proposal now (a bound is reached, or leadership is moving). */
export class ProposalDroppedError extends RaftError {
  constructor(detail: string) {
    super('dropped', `Proposal dropped: ${detail}`)
    this.name = 'ProposalDroppedError'
  }
}

/** Another configuration or election timer change is not yet committed (single-server changes, thesis §4.1). */
export class ChangeInProgressError extends RaftError {
  constructor(what: string, detail: string) {
    super('busy', `Cannot ${what}: ${detail}`)
    this.name = 'ChangeInProgressError'
  }
}

/** The request names a server or value the cluster does not accept. */
export class InvalidRequestError extends RaftError {
  constructor(what: string, detail: string) {
    super('rejected', `Cannot ${what}: ${detail}`)
    this.name = 'InvalidRequestError'
  }
}

/** Asserts an invariant of the core; a failure is a bug, not an operating error. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`Raft invariant broken: ${message}`)
}
