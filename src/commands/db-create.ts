import fs from 'node:fs'
import {Args, Flags} from '@oclif/core'
import {OvnctlCommand} from '../core/cli/command.js'
import {failedError, usageError} from '../core/cli/exit.js'
import {yesFlag} from '../core/cli/flags.js'
import {readSchemaFile, resolveSchemaFile} from '../core/server/schema-files.js'
import {createDatabaseFile} from '../core/server/standalone.js'

/** `ovnctl db-create`: a new standalone database file, as `ovsdb-tool create`. */
export default class DbCreate extends OvnctlCommand<typeof DbCreate> {
  static override summary = 'Create an empty standalone database file from a schema, as ovsdb-tool create does.'
  static override description = `Writes FILE in the standalone format of ovsdb(5), holding only SCHEMA: ovsdb-tool and \
ovsdb-server read it, and "ovnctl db-serve FILE" serves it. SCHEMA is a schema file, or one of nb, sb and vswitch \
(also OVN_Northbound, OVN_Southbound, Open_vSwitch) for the schema installed by OVN or Open vSwitch \
(under $OVN_PKGDATADIR, default /usr/share/ovn, and $OVS_PKGDATADIR, default /usr/share/openvswitch).

FILE must not exist yet. With --force an existing FILE is replaced, after a confirmation on a terminal; without a terminal --force needs --yes as well.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> ovnnb_db.db nb',
    '<%= config.bin %> <%= command.id %> ovnsb_db.db /usr/share/ovn/ovn-sb.ovsschema',
  ]

  static override args = {
    file: Args.string({description: 'The database file to create.', required: true}),
    schema: Args.string({description: 'A schema file, or nb, sb, vswitch.', required: true}),
  }

  static override flags = {
    force: Flags.boolean({summary: 'Replace FILE if it exists (its contents are lost).'}),
    ...yesFlag,
  }

  async run(): Promise<void> {
    let schemaFile: string
    let json: unknown
    try {
      schemaFile = resolveSchemaFile(this.args.schema)
      json = readSchemaFile(schemaFile)
    } catch (err) {
      throw usageError((err as Error).message)
    }
    if (this.flags.force && fs.existsSync(this.args.file)) {
      const replace = await this.confirm(`Replace "${this.args.file}"? Every row in it will be lost.`, `replace "${this.args.file}"`)
      if (!replace) throw failedError(`Not replacing "${this.args.file}"`)
      fs.rmSync(this.args.file, {force: true})
    }
    try {
      const schema = await createDatabaseFile(this.args.file, json)
      this.note(`Created "${this.args.file}": database "${schema.name}" version ${schema.version} from "${schemaFile}"`)
    } catch (err) {
      const e = err as {code?: string; message: string}
      if (e.code === 'exists') throw failedError(`Cannot create "${this.args.file}": the file exists (use --force to replace it)`)
      throw failedError(`Cannot create "${this.args.file}": ${e.message}`)
    }
  }
}
