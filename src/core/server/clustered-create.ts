/**
 * New clustered database files, as `ovsdb-tool create-cluster` and `ovsdb-tool join-cluster` write them
 * (ovsdb-tool(1), ovsdb(5) "Clustered Format"): the first server's file holds a snapshot of the empty database
 * at index 1, term 1, with itself as the only server; a joining server's file holds only who it is and whom to
 * ask, and receives the database from the leader when db-serve runs it.
 */
import {DatabaseSchema} from '../ovsdb/index.js'
import {electionTimerMsDefault} from '../raft/index.js'
import {passiveOf} from '../raft/driver-transport.js'
import {RaftFile} from '../storage/raft-file.js'
import {encodeSnapshotData} from '../storage/raft-records.js'
import {newUuid} from './uuid.js'

/** What create-cluster wrote. */
export interface CreatedCluster {
  readonly schema: DatabaseSchema
  readonly clusterId: string
  readonly serverId: string
}

/** Checks a cluster address (tcp:IP:PORT, ssl:IP:PORT or unix:PATH) and returns it. */
export function checkClusterAddress(address: string): string {
  passiveOf(address)
  return address
}

/**
 * The schema a cluster stores: ephemeral columns become persistent, since a cluster's log is its only state
 * (OVS warns and does the same: "clusters do not support ephemeral columns").
 */
export function clusterSchemaJSON(schemaJSON: unknown): {json: object; madePersistent: number} {
  const json = DatabaseSchema.fromJSON(schemaJSON).toJSON() as {tables: Record<string, {columns: Record<string, {ephemeral?: boolean}>}>}
  let madePersistent = 0
  for (const table of Object.values(json.tables)) {
    for (const column of Object.values(table.columns)) {
      if (column.ephemeral) {
        delete column.ephemeral
        madePersistent++
      }
    }
  }
  return {json, madePersistent}
}

/** Writes the file of the first server of a new cluster. */
export async function createClusterFile(file: string, schemaJSON: unknown, localAddress: string): Promise<CreatedCluster & {madePersistent: number}> {
  checkClusterAddress(localAddress)
  const {json, madePersistent} = clusterSchemaJSON(schemaJSON)
  const schema = DatabaseSchema.fromJSON(json)
  const serverId = newUuid()
  const clusterId = newUuid()
  await RaftFile.create(
    file,
    {serverId, localAddress, name: schema.name, clusterId, remoteAddresses: []},
    {
      index: 1,
      term: 1,
      servers: {[serverId]: localAddress},
      electionTimerMs: electionTimerMsDefault,
      data: encodeSnapshotData({data: [json, {}], eid: newUuid()}),
    },
  )
  return {schema, clusterId, serverId, madePersistent}
}

/** Writes the file of a server that will join the cluster reachable at `remoteAddresses`. */
export async function createJoinFile(
  file: string,
  o: {name: string; localAddress: string; remoteAddresses: readonly string[]; clusterId?: string},
): Promise<{serverId: string}> {
  checkClusterAddress(o.localAddress)
  for (const r of o.remoteAddresses) checkClusterAddress(r)
  if (o.remoteAddresses.includes(o.localAddress)) {
    throw new Error(`Cannot join with local address "${o.localAddress}": it is also given as a remote address`)
  }
  const serverId = newUuid()
  await RaftFile.create(
    file,
    {serverId, localAddress: o.localAddress, name: o.name, clusterId: o.clusterId ?? null, remoteAddresses: [...o.remoteAddresses]},
    {index: 0, term: 0, servers: {}, electionTimerMs: electionTimerMsDefault, data: new Uint8Array()},
  )
  return {serverId}
}
