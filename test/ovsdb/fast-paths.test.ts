/** The engine's fast paths (index lookups, index keys, shared datums, record framing) agree with the plain ones. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  Database, DatabaseSchema, datumEquals, datumFromJSON, datumToJSON, executeTransaction, makeRow, type Row,
} from '../../src/core/ovsdb/index.js';
import { compileIndexKey } from '../../src/core/ovsdb/table-plan.js';
import { decodeRecordAt, encodeRecord } from '../../src/core/storage/log-format.js';
import { testSchemaJSON, uuidSource } from './helpers.js';

const schema = DatabaseSchema.fromJSON(testSchemaJSON);
const tableA = schema.tables.get('A')!;
const sha1 = (data: Uint8Array) => createHash('sha1').update(data).digest('hex');

const rowArb = fc.record({ i: fc.integer({ min: 0, max: 2 }), s: fc.constantFrom('a', 'b') });

/** The operations run before the query, in the same transaction: none, or one that changes rows. */
const preludeArb = fc.constantFrom(
  [],
  [{ op: 'insert', table: 'A', row: { e: 'x', name: 'r1', n2: 50, i: 1 } }],
  [{ op: 'insert', table: 'A', row: { e: 'x', name: 'new', n2: 51, i: 0 } }],
  [{ op: 'update', table: 'A', where: [['name', '==', 'r0']], row: { name: 'r1' } }],
  [{ op: 'update', table: 'A', where: [['i', '==', 1]], row: { n2: 7 } }],
  [{ op: 'update', table: 'A', where: [['name', '==', 'r1']], row: { name: 'gone' } }],
  [{ op: 'update', table: 'A', where: [['name', '==', 'r1']], row: { i: 2 } },
    { op: 'update', table: 'A', where: [['name', '==', 'r3']], row: { name: 'r4' } }],
  [{ op: 'delete', table: 'A', where: [['name', '==', 'r2']] }],
  [{ op: 'delete', table: 'A', where: [['s', '==', 'a']] },
    { op: 'insert', table: 'A', row: { e: 'x', name: 'r3', n2: 3, i: 1 } }],
);

/** The same test, once with `==` (index lookup) and once with `includes` (a scan: equal for scalars). */
function queries(name: string, i: number, n2: number): Array<[unknown[], unknown[]]> {
  return [
    [[['name', '==', name]], [['name', 'includes', name]]],
    [[['name', '==', name], ['s', '==', 'a']], [['name', 'includes', name], ['s', '==', 'a']]],
    [[['i', '==', i], ['n2', '==', n2]], [['i', 'includes', i], ['n2', 'includes', n2]]],
    [[['n2', '==', n2], ['i', '==', i], ['i', '==', i + 1]], [['n2', 'includes', n2], ['i', 'includes', i], ['i', 'includes', i + 1]]],
  ];
}

describe('engine fast paths', () => {
  it('finds rows by a unique index exactly as a scan does, also after changes earlier in the transaction', () => {
    fc.assert(fc.property(fc.array(rowArb, { maxLength: 5 }), preludeArb, fc.integer({ min: 0, max: 5 }),
      fc.integer({ min: 0, max: 2 }), (rows, prelude, k, i) => {
        const db = new Database(schema);
        const env = { newUuid: uuidSource(21) };
        const init = executeTransaction(db, rows.map((r, n) => ({ op: 'insert', table: 'A', row: { e: 'x', name: `r${n}`, n2: n, ...r } })), env);
        assert.equal(init.kind, 'committed', JSON.stringify(init));
        if (init.kind === 'committed' && init.changes) db.commit(init.changes);
        for (const [fast, scan] of queries(`r${k}`, i, k)) {
          const select = (where: unknown[]) => ({ op: 'select', table: 'A', where, columns: ['name', 'i', 'n2', 's'] });
          // The commit may fail (a prelude can duplicate an index value): the selects have run by then.
          const o = executeTransaction(db, [...prelude, select(fast), select(scan)], env);
          assert.notEqual(o.kind, 'blocked');
          if (o.kind === 'blocked') return;
          const [got, want] = o.results.slice(prelude.length);
          assert.deepEqual(got, want, `rows ${JSON.stringify(rows)} prelude ${JSON.stringify(prelude)} where ${JSON.stringify(fast)}`);
        }
      }), { numRuns: 1000 });
  });

  it('gives rows equal index keys exactly when their indexed columns are equal', () => {
    const subsets = <T>(xs: T[]): T[][] => xs.flatMap((x, i) => [[x], ...xs.slice(i + 1).map((y) => [x, y])]).concat([[]]);
    const domains: Record<string, unknown[]> = {
      name: ['', 'a', 'b', 'a\u0000', '"', 'a,b', '1', '["a"]'],
      r: [0, -0, 1, 1.5, 2, 1e21],
      oi: [['set', []], 0, 1, ['set', [1]]],
      ss: subsets(['a', 'b', 'a,b', '["a"']).map((xs) => ['set', xs]),
      m: subsets([['a', 0], ['a', 1], ['b', 0], ['b', 1]]).filter((ps) => ps.length < 2 || ps[0]![0] !== ps[1]![0])
        .map((ps) => ['map', ps]),
    };
    const indexes = [['name'], ['r'], ['oi'], ['ss'], ['m'], ['name', 'r'], ['name', 'ss'], ['ss', 'm', 'oi']];
    for (const index of indexes) {
      const key = compileIndexKey(tableA, index);
      // Every combination of the indexed columns' values, the other columns left at their defaults.
      let combos: Array<Record<string, unknown>> = [{}];
      for (const c of index) combos = combos.flatMap((o) => domains[c]!.map((v) => ({ ...o, [c]: v })));
      const byKey = new Map<unknown, Row>();
      const byValue = new Map<string, unknown>();
      for (const json of combos) {
        const columns = tableA.newColumns();
        for (const c of index) columns[c] = datumFromJSON(tableA.columns.get(c)!.type, json[c]);
        const row = makeRow('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002', columns);
        const k = key(row);
        const value = JSON.stringify(index.map((c) => datumToJSON(tableA.columns.get(c)!.type, columns[c]!)));
        const same = byKey.get(k);
        if (same && !index.every((c) => datumEquals(same.columns[c]!, columns[c]!))) {
          assert.fail(`index ${JSON.stringify(index)}: values ${value} and ${JSON.stringify(index.map((c) => same.columns[c]))} ` +
            `share key ${String(k)}`);
        }
        if (byValue.has(value) && byValue.get(value) !== k) {
          assert.fail(`index ${JSON.stringify(index)}: equal values ${value} got keys ${String(byValue.get(value))} and ${String(k)}`);
        }
        byKey.set(k, row);
        byValue.set(value, k);
      }
    }
  });

  it('parses every integer and boolean to its own value, shared datums or not', () => {
    const type = tableA.columns.get('i')!.type;
    for (let n = -20000; n <= 20000; n += 7) {
      const d = datumFromJSON(type, n);
      assert.deepEqual([...d.keys], [n], `integer ${n}`);
      assert.ok(Object.isFrozen(d) && Object.isFrozen(d.keys), `datum of ${n} is frozen`);
    }
    const b = tableA.columns.get('b')!.type;
    assert.deepEqual([datumFromJSON(b, true).keys[0], datumFromJSON(b, false).keys[0]], [true, false]);
  });

  it('encodes records byte for byte as the header line and the JSON line, and decodes them back', () => {
    const record = fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 });
    fc.assert(fc.property(record, fc.constantFrom('JSON', 'CLUSTER'), (json, magic) => {
      const body = Buffer.from(JSON.stringify(json) + '\n', 'utf8');
      const want = Buffer.concat([Buffer.from(`OVSDB ${magic} ${body.length} ${sha1(body)}\n`, 'latin1'), body]);
      const got = encodeRecord(json, sha1, { magic });
      assert.ok(got.equals(want), `record ${JSON.stringify(json)}: expected ${want.toString('latin1')}, got ${got.toString('latin1')}`);
      const step = decodeRecordAt(got, 0, sha1, { magic });
      assert.equal(step.kind, 'record', JSON.stringify(step));
      if (step.kind === 'record') assert.deepEqual(step.record.json, JSON.parse(JSON.stringify(json)));
    }));
  });
});
