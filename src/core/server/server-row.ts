/**
 * [clustered] Keeps a clustered database's row of _Server.Database (ovsdb-server(5)) current without putting a
 * _Server transaction on the path of every commit.
 */
import type {DbStatus} from './server.js'

/** How far _Server.Database's index may lag the applied index: clients read it to pick a server, not to track commits. */
export const serverIndexDelayMs = 10

/**
 * Updates the row after the replies of the current turn have left (a transaction on _Server took a sixth of a
 * commit's path when it ran inline). A new leader or connection state goes out at once; a new index alone (every
 * commit) at most every serverIndexDelayMs, which also spares the allocation of a transaction per commit.
 */
export class ServerRowPublisher {
  private shown: DbStatus | null = null
  private timer: NodeJS.Timeout | null = null
  private timerUrgent = false
  private closed = false

  constructor(
    private readonly status: () => DbStatus,
    private readonly publish: (status: DbStatus) => void,
  ) {}

  /** The status may have changed: publish it soon if it did. */
  changed(): void {
    if (this.closed) return
    const st = this.status()
    const shown = this.shown
    const urgent = shown === null || st.connected !== shown.connected || st.leader !== shown.leader || st.cid !== shown.cid || st.sid !== shown.sid
    if (!urgent && st.index === shown.index) return
    if (this.timer !== null) {
      if (!urgent || this.timerUrgent) return
      clearTimeout(this.timer)
    }
    this.timerUrgent = urgent
    this.timer = setTimeout(() => this.fire(), urgent ? 0 : serverIndexDelayMs)
  }

  /** Publishes nothing more. */
  close(): void {
    this.closed = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }

  private fire(): void {
    this.timer = null
    if (this.closed) return
    this.shown = this.status()
    this.publish(this.shown)
  }
}
