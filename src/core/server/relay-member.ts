/**
 * Which member of a clustered source a relay or backup may follow, from the source's _Server.Database row
 * (ovsdb-server(5)): one connected to its cluster, and its leader when writes are forwarded, as ovsdb-cs checks
 * before it stays with a server.
 */

/** The member reached is not the one wanted (not connected to its cluster, or not the leader): try the next. */
export class WrongMemberError extends Error {}

/** The _Server.Database row of the followed database, as far as the link needs it. */
export interface ServerRow {
  model?: string
  connected?: boolean
  leader?: boolean
}

/** The row after the <table-updates2> of a _Server monitor. */
export function serverRowUpdate(row: ServerRow, updates: unknown): ServerRow {
  const rows = (updates as Record<string, Record<string, Record<string, ServerRow | null>>> | null)?.Database ?? {}
  for (const update of Object.values(rows)) {
    const body = update.initial ?? update.insert ?? update.modify
    if (body) row = {...(update.modify ? row : {}), ...body}
    else if ('delete' in update) row = {}
  }
  return row
}

/** Throws WrongMemberError unless the member at `remote` may be followed. */
export function checkMember(row: ServerRow, remote: string, leaderOnly: boolean): void {
  if (row.model !== 'clustered') return
  if (row.connected === false) throw new WrongMemberError(`"${remote}" is not connected to its cluster`)
  if (leaderOnly && row.leader === false) throw new WrongMemberError(`"${remote}" is not the cluster leader`)
}
