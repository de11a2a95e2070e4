/** The Raft consensus core: a pure state machine (no clock, no I/O, no randomness of its own). */
export {initialState, joinState} from './bootstrap.js'
export {
  ChangeInProgressError,
  InvalidRequestError,
  NotLeaderError,
  ProposalDroppedError,
  RaftError,
} from './errors.js'
export {
  type RaftLimits,
  defaultRaftLimits,
  electionTimerMsDefault,
  electionTimerMsMax,
  electionTimerMsMin,
} from './limits.js'
export {type ConfChange, RaftNode, type RaftNodeOptions, tickMsDefault} from './node.js'
export {sendableBeforePersist} from './replication.js'
export {abbreviateId} from './status.js'
export type * from './types.js'
