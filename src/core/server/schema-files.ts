/**
 * Where schemas come from: a file the operator names, or the standard install locations of OVN and Open
 * vSwitch for the well-known databases. ovnctl carries no copy of other projects' schemas.
 */
import fs from 'node:fs'
import path from 'node:path'

/** Standard schema files by database name and short alias; directories overridable as OVS/OVN do. */
export function standardSchemas(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const ovn = env.OVN_PKGDATADIR ?? '/usr/share/ovn'
  const ovs = env.OVS_PKGDATADIR ?? '/usr/share/openvswitch'
  const nb = path.join(ovn, 'ovn-nb.ovsschema')
  const sb = path.join(ovn, 'ovn-sb.ovsschema')
  const vs = path.join(ovs, 'vswitch.ovsschema')
  return {nb, OVN_Northbound: nb, sb, OVN_Southbound: sb, vswitch: vs, Open_vSwitch: vs}
}

/** Resolves SCHEMA (a file, or nb/sb/vswitch and the database names) to a file path, or throws naming it. */
export function resolveSchemaFile(schema: string, env: NodeJS.ProcessEnv = process.env): string {
  if (fs.existsSync(schema)) return schema
  const known = standardSchemas(env)[schema]
  if (known === undefined) {
    throw new Error(`Cannot find schema "${schema}": no such file, and not one of nb, sb, vswitch, OVN_Northbound, OVN_Southbound, Open_vSwitch`)
  }
  if (!fs.existsSync(known)) {
    throw new Error(`Cannot find schema "${schema}": "${known}" does not exist (install the OVN/OVS packages, or set OVN_PKGDATADIR/OVS_PKGDATADIR)`)
  }
  return known
}

/** Reads and parses a schema file, with errors that name the file. */
export function readSchemaFile(file: string): unknown {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    throw new Error(`Cannot read schema "${file}": ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`)
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new Error(`Cannot read schema "${file}": not valid JSON: ${(err as Error).message}`)
  }
}
