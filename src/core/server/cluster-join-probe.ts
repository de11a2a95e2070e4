/**
 * What `cluster-join` asks a running member before it writes anything: which database and cluster the member
 * serves. A wrong cluster id or database name is refused before a file exists, instead of leaving a server
 * that can never join. An ovnctl extension over the cluster connection: the real ovsdb-server does not answer
 * it (cluster-join then says so, and --no-check skips the question, as ovsdb-tool join-cluster never asks).
 */
import {connect, type JsonRpcConnection, RpcError} from '../jsonrpc/index.js'

/** The JSON-RPC method a cluster member answers with what it serves. */
export const clusterInfoMethod = 'ovnctl/cluster-info'

/** The answer: the member's database name, schema name, cluster id and the addresses of its servers. */
export interface ClusterInfo {
  name: string
  schema: string
  cid: string | null
  addresses: string[]
}

/** What probeCluster found, and at which member. */
export interface ProbedCluster {
  clusterId: string
  from: string
}

/** No member could be reached at all (a cluster whose files are all being made before any server runs). */
export class NoMemberReachedError extends Error {}

/**
 * Asks `remotes` in turn which cluster they serve; returns the first answer for database `name` (and cluster
 * `cid`, if given). Throws an error naming every member tried and why it was refused; a NoMemberReachedError
 * when none could be reached at all.
 */
export async function probeCluster(
  remotes: readonly string[],
  name: string,
  o: {cid?: string; localAddress: string; timeoutMs: number},
): Promise<ProbedCluster> {
  const why: string[] = []
  let reached = false
  for (const remote of remotes) {
    let conn: JsonRpcConnection | null = null
    try {
      conn = await connect(remote, {timeoutMs: o.timeoutMs})
      reached = true
      const info = checkInfo(await conn.request(clusterInfoMethod, [], {timeoutMs: o.timeoutMs}))
      if (info.name !== name || info.schema !== name) throw new Error(`it serves "${info.name}", not "${name}"`)
      if (info.cid === null) throw new Error('it does not know its cluster id yet')
      if (o.cid !== undefined && info.cid !== o.cid) throw new Error(`it is in cluster ${info.cid}, not ${o.cid}`)
      if (info.addresses.includes(o.localAddress)) throw new Error(`a server of the cluster already uses the address ${o.localAddress}`)
      return {clusterId: info.cid, from: remote}
    } catch (err) {
      why.push(`${remote}: ${err instanceof RpcError ? rpcDetails(err) : (err as Error).message}`)
    } finally {
      conn?.close()
    }
  }
  const message = `Cannot join the "${name}" cluster: no member accepts (${why.join('; ')})`
  throw reached ? new Error(message) : new NoMemberReachedError(message)
}

function checkInfo(x: unknown): ClusterInfo {
  const i = x as ClusterInfo
  const ok =
    i !== null &&
    typeof i === 'object' &&
    typeof i.name === 'string' &&
    typeof i.schema === 'string' &&
    (i.cid === null || typeof i.cid === 'string') &&
    Array.isArray(i.addresses)
  if (!ok) throw new Error(`invalid answer to "${clusterInfoMethod}": ${JSON.stringify(x).slice(0, 200)}`)
  return i
}

function rpcDetails(err: RpcError): string {
  const e = err.error as {error?: unknown; details?: unknown} | null
  if (e !== null && typeof e === 'object' && typeof e.details === 'string') return e.details
  if (e !== null && typeof e === 'object' && e.error === 'unknown method') return `it does not answer "${clusterInfoMethod}" (not an ovnctl server?)`
  return err.message
}
