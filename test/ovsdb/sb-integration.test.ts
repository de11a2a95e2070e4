/** Integration: the OVN Southbound schema with ~1000 realistic rows; references and garbage collection. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Database, DatabaseSchema, executeTransaction, type TxnOutcome } from '../../src/core/ovsdb/index.js';
import { uuidSource } from './helpers.js';

const schemaFiles = ['/usr/share/ovn/ovn-sb.ovsschema', '/usr/share/ovn/ovn-nb.ovsschema', '/usr/share/openvswitch/vswitch.ovsschema'];

function committed(db: Database, o: TxnOutcome): unknown[] {
  assert.equal(o.kind, 'committed', JSON.stringify(o));
  if (o.kind !== 'committed') return [];
  if (o.changes) db.commit(o.changes);
  return o.results;
}

describe('OVN and OVS schemas', () => {
  for (const file of schemaFiles) {
    it(`parses ${file.split('/').pop()} and writes back an equivalent schema`, function () {
      if (!fs.existsSync(file)) this.skip();
      const json = JSON.parse(fs.readFileSync(file, 'utf8'));
      const schema = DatabaseSchema.fromJSON(json);
      const again = DatabaseSchema.fromJSON(schema.toJSON());
      assert.deepEqual(again.toJSON(), schema.toJSON());
      assert.equal(schema.tables.size, Object.keys(json.tables).length);
    });
  }

  it('holds 1000 Southbound rows and collects unreferenced non-root rows in cascade', function () {
    if (!fs.existsSync(schemaFiles[0]!)) this.skip();
    const schema = DatabaseSchema.fromJSON(JSON.parse(fs.readFileSync(schemaFiles[0]!, 'utf8')));
    const db = new Database(schema);
    const env = { newUuid: uuidSource(42) };
    const ops: unknown[] = [{ op: 'insert', table: 'Datapath_Binding', 'uuid-name': 'dp', row: { tunnel_key: 1, external_ids: ['map', [['name', 'ls0']]] } }];
    for (let i = 0; i < 900; i++) {
      ops.push({ op: 'insert', table: 'Logical_Flow', row: {
        logical_datapath: ['named-uuid', 'dp'], pipeline: i % 2 ? 'egress' : 'ingress', table_id: i % 20, priority: i % 100,
        match: `inport == "lp${i}" && ip4.src == 10.0.${i >> 8}.${i & 255}`, actions: 'next;', external_ids: ['map', [['stage-name', `s${i % 20}`]]] } });
    }
    for (let i = 0; i < 99; i++) {
      ops.push({ op: 'insert', table: 'Port_Binding', row: { logical_port: `lp${i}`, tunnel_key: i + 1, datapath: ['named-uuid', 'dp'], mac: `00:00:00:00:00:${(i % 256).toString(16).padStart(2, '0')} 10.0.0.${i}` } });
    }
    committed(db, executeTransaction(db, ops, env));
    assert.equal(db.rowCount(), 1000);
    const dp = [...db.table('Datapath_Binding').rows.keys()][0]!;
    assert.equal(db.table('Datapath_Binding').refCount(dp), 999, 'strong references from every flow and port');

    // Datapath_Binding is a root table in the SB schema: deleting it while referenced must fail.
    const refused = executeTransaction(db, [{ op: 'delete', table: 'Datapath_Binding', where: [] }], env);
    assert.equal(refused.kind, 'failed');
    assert.match(JSON.stringify(refused.kind === 'failed' ? refused.results : []), /referential integrity violation/);

    // Logical_DP_Group is non-root: a group that loses its last flow disappears.
    committed(db, executeTransaction(db, [
      { op: 'insert', table: 'Logical_DP_Group', 'uuid-name': 'g', row: { datapaths: ['named-uuid', 'dp0'] } },
      { op: 'insert', table: 'Datapath_Binding', 'uuid-name': 'dp0', row: { tunnel_key: 2 } },
      { op: 'insert', table: 'Logical_Flow', row: { logical_dp_group: ['named-uuid', 'g'], pipeline: 'ingress', table_id: 0, priority: 1, match: '1', actions: 'drop;' } },
    ], env));
    assert.equal(db.table('Logical_DP_Group').rows.size, 1);
    committed(db, executeTransaction(db, [{ op: 'delete', table: 'Logical_Flow', where: [['match', '==', '1']] }], env));
    assert.equal(db.table('Logical_DP_Group').rows.size, 0, 'the group was garbage collected');

    const o = executeTransaction(db, [{ op: 'delete', table: 'Logical_Flow', where: [] }, { op: 'delete', table: 'Port_Binding', where: [] },
      { op: 'delete', table: 'Datapath_Binding', where: [] }], env);
    committed(db, o);
    assert.equal(db.rowCount(), 0);
    assert.equal(db.table('Datapath_Binding').strongRefs.size, 0, 'no reference counts are left behind');
  });
});
