/** Named limits of one JSON-RPC connection, with their defaults. Every queue and wait here has one. */
export interface ConnectionLimits {
  /** Largest single message accepted from the peer, in bytes. */
  messageBytesMax: number
  /** Deepest nesting of arrays and objects accepted in one message. */
  depthMax: number
  /** Bytes queued for the peer (not yet taken by the kernel) before the connection is closed as stuck. */
  backlogBytesMax: number
  /**
   * Commits whose updates one monitor may hold merged for a client that does not read (newer row state
   * replaces older) before the client is disconnected; it can then resume with monitor_cond_since.
   */
  backlogMessagesMax: number
  /** Idle time after which an "echo" probe is sent, and again after which the peer is dropped; 0 disables. */
  probeIntervalMs: number
  /** Requests this side sent that may await a reply at once. */
  outstandingRequestsMax: number
  /**
   * Requests from the peer this side has not answered yet (transactions waiting in "wait" or for the log,
   * condition changes); one more is answered at once with "resources exhausted" (RFC 7047 §4.1.3).
   */
  pendingRequestsMax: number
}

/**
 * Defaults. messageBytesMax is generous because a full database snapshot is one message; depthMax follows
 * the OVS JSON parser's nesting limit of 1000. The probe interval matches ovsdb-server's 5 s default for
 * remotes that have one (ovsdb-server(1) --remote, Manager inactivity_probe).
 */
export const defaultConnectionLimits: ConnectionLimits = {
  messageBytesMax: 256 * 1024 * 1024,
  depthMax: 1000,
  backlogBytesMax: 512 * 1024 * 1024,
  backlogMessagesMax: 100_000,
  probeIntervalMs: 5000,
  outstandingRequestsMax: 65536,
  pendingRequestsMax: 1024,
}
