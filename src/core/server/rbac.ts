/**
 * Role-based access control as ovsdb-server implements it (ovsdb-server(1) "Role-Based Access Control",
 * ovn-sb(5) RBAC_Role and RBAC_Permission, OVS ovsdb/rbac.c). A remote whose Connection row names a role
 * gives its clients that role; a client is identified by the common name of its certificate. For each table
 * the role's permission row says whether rows may be inserted and deleted, which columns may be updated,
 * and which columns (or "column:key" of a map) must equal the client id for a row to be the client's own; an
 * empty string there authorizes every client. Reads are never restricted. A refused write fails the whole
 * transaction with "permission error" and the texts ovsdb-server uses.
 */
import type {Database, Row, WriteAuthorizer} from '../ovsdb/index.js'

/** The client a session serves, for RBAC: its role (empty: none) and id (certificate CN; null without TLS). */
export interface ClientIdentity {
  readonly role: string
  readonly id: string | null
}

/** True when RBAC applies to writes of `client` on `db`: the client has a role and the database RBAC tables. */
export function rbacApplies(db: Database, client: ClientIdentity): boolean {
  return client.role !== '' && db.schema.tables.has('RBAC_Role') && db.schema.tables.has('RBAC_Permission')
}

/** The permission row of `role` for `table`, if the role grants one. */
function lookupPermission(db: Database, role: string, table: string): Row | null {
  for (const roleRow of db.table('RBAC_Role').rows.values()) {
    if (roleRow.columns.name?.keys[0] !== role) continue
    const perms = roleRow.columns.permissions
    const i = perms?.keys.indexOf(table) ?? -1
    if (i < 0 || perms?.values === undefined) return null
    return db.table('RBAC_Permission').rows.get(perms.values[i] as string) ?? null
  }
  return null
}

/** The value of "column" (a single string) or "column:key" (a string map) of `row`, as rbac.c reads it. */
function authorizationValue(row: Row, name: string): string | null {
  const colon = name.indexOf(':')
  if (colon < 0) {
    const d = row.columns[name]
    return d !== undefined && d.values === undefined && d.keys.length === 1 && typeof d.keys[0] === 'string' ? d.keys[0] : null
  }
  const d = row.columns[name.slice(0, colon)]
  const i = d?.values === undefined ? -1 : d.keys.indexOf(name.slice(colon + 1))
  const v = i < 0 ? undefined : d!.values![i]
  return typeof v === 'string' ? v : null
}

/** Whether `row` belongs to the client `id` under permission `perm` (its "authorization" column). */
function owns(perm: Row, id: string, row: Row): boolean {
  for (const name of perm.columns.authorization?.keys ?? []) {
    if (name === '') return true
    if (authorizationValue(row, name as string) === id) return true
  }
  return false
}

/** The write checks of one client on one database (see rbacApplies for when to use them). */
export function rbacAuthorizer(db: Database, client: ClientIdentity): WriteAuthorizer {
  const {role, id} = client
  // ovsdb-server prints the id with "%s": a client without a certificate shows as "(null)".
  const who = `client "${id ?? '(null)'}" role "${role}"`
  const perm = (table: string) => (id === null ? null : lookupPermission(db, role, table))
  const mayInsertDelete = (p: Row) => p.columns.insert_delete?.keys[0] === true
  return {
    insert(table, row) {
      const p = perm(table)
      if (p !== null && mayInsertDelete(p) && owns(p, id!, row)) return null
      return `RBAC rules for ${who} prohibit row insertion into table "${table}".`
    },
    update(table, columns, rows, mutate) {
      const p = perm(table)
      const updatable = p?.columns.update?.keys ?? []
      if (p !== null && columns.every((c) => updatable.includes(c)) && rows.every((r) => owns(p, id!, r))) return null
      return mutate
        ? `RBAC rules for ${who} prohibit mutate operation on table "${table}".`
        : `RBAC rules for ${who} prohibit modification of table "${table}".`
    },
    delete(table, rows) {
      const p = perm(table)
      if (p !== null && mayInsertDelete(p) && rows.every((r) => owns(p, id!, r))) return null
      return `RBAC rules for ${who} prohibit row deletion from table "${table}".`
    },
  }
}
