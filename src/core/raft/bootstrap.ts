/**
 * The on-disk state of a server that has never run: the first server(s) of a new cluster (ovsdb-tool
 * create-cluster writes a snapshot whose "prev_servers" lists them) or a server joining an existing one
 * (ovsdb-tool join-cluster: no configuration until the leader adds it).
 */
import {electionTimerMsDefault} from './limits.js'
import type {PersistedState, Servers} from './types.js'

/** State of a founding server of a cluster whose initial configuration is `servers`. */
export function initialState(servers: Servers, o: {data?: Uint8Array; electionTimerMs?: number} = {}): PersistedState {
  return {
    hardState: {term: 0, vote: null, commit: 0},
    snapshot: {
      index: 0,
      term: 0,
      servers,
      electionTimerMs: o.electionTimerMs ?? electionTimerMsDefault,
      data: o.data ?? new Uint8Array(),
    },
    entries: [],
  }
}

/**
 * State of a server about to join a cluster. Its id must be new: a server id is never reused, so a removed
 * server cannot come back under its old id with a log and vote history the cluster has forgotten (the driver
 * draws a fresh UUID per join, as ovsdb-tool join-cluster does).
 */
export function joinState(): PersistedState {
  return initialState({})
}
