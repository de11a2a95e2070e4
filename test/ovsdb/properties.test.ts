/** Property tests (fast-check): datums, conditions, mutations and transactions against naive models. */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  Database, DatabaseSchema, applyDatumDiff, compareAtoms, compileCondition, datumDiff, datumEquals,
  datumFromJSON, datumToJSON, executeTransaction, rowToJSON, type ColumnType,
} from '../../src/core/ovsdb/index.js';
import { testSchemaJSON, uuidSource } from './helpers.js';

const setOfStrings: ColumnType = { key: { type: 'string' }, min: 0, max: Infinity };
const mapIntInt: ColumnType = { key: { type: 'integer' }, value: { type: 'integer' }, min: 0, max: Infinity };

const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

describe('datum properties', () => {
  it('orders strings like their UTF-8 bytes', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
      assert.equal(Math.sign(compareAtoms(a, b)), Math.sign(utf8Order(a, b)), `a=${JSON.stringify(a)} b=${JSON.stringify(b)}`);
    }));
  });

  it('round-trips sets through JSON in canonical order without duplicates', () => {
    fc.assert(fc.property(fc.uniqueArray(fc.string({ unit: 'grapheme' })), (xs) => {
      const d = datumFromJSON(setOfStrings, ['set', xs]);
      const again = datumFromJSON(setOfStrings, datumToJSON(setOfStrings, d));
      assert.ok(datumEquals(d, again), `input ${JSON.stringify(xs)}`);
      for (let i = 1; i < d.keys.length; i++) assert.ok(utf8Order(d.keys[i - 1] as string, d.keys[i] as string) < 0);
      assert.equal(d.keys.length, xs.length);
    }));
  });

  it('applies a diff to get the new value back (sets and maps)', () => {
    const set = fc.uniqueArray(fc.string({ maxLength: 3 }));
    const map = fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 3 })), { selector: (p) => p[0] });
    fc.assert(fc.property(set, set, (a, b) => {
      const da = datumFromJSON(setOfStrings, ['set', a]);
      const db = datumFromJSON(setOfStrings, ['set', b]);
      assert.ok(datumEquals(applyDatumDiff(setOfStrings, da, datumDiff(setOfStrings, da, db)), db));
    }));
    fc.assert(fc.property(map, map, (a, b) => {
      const da = datumFromJSON(mapIntInt, ['map', a]);
      const db = datumFromJSON(mapIntInt, ['map', b]);
      assert.ok(datumEquals(applyDatumDiff(mapIntInt, da, datumDiff(mapIntInt, da, db)), db), `old ${JSON.stringify(a)} new ${JSON.stringify(b)}`);
    }));
  });
});

const schema = DatabaseSchema.fromJSON(testSchemaJSON);
const tableA = schema.tables.get('A')!;

/** A small database of A rows with random i, oi and si. */
function dbWith(rows: Array<{ i: number; oi: number[]; si: number[] }>) {
  const db = new Database(schema);
  const env = { newUuid: uuidSource(11) };
  const ops = rows.map((r, k) => ({ op: 'insert', table: 'A', row: { e: 'x', name: `r${k}`, i: r.i, n2: k, oi: ['set', r.oi], si: ['set', r.si] } }));
  const o = executeTransaction(db, ops, env);
  assert.equal(o.kind, 'committed', JSON.stringify(o));
  if (o.kind === 'committed' && o.changes) db.commit(o.changes);
  return { db, env };
}

const rowArb = fc.record({
  i: fc.integer({ min: -3, max: 3 }),
  oi: fc.uniqueArray(fc.integer({ min: -3, max: 3 }), { maxLength: 1 }),
  si: fc.uniqueArray(fc.integer({ min: -3, max: 3 }), { maxLength: 4 }),
});
const fnArb = fc.constantFrom('<', '<=', '==', '!=', '>=', '>', 'includes', 'excludes');

/** The naive model: OVS 3.1 semantics written out directly on plain arrays. */
function naive(fn: string, field: number[], arg: number[], relational: boolean): boolean {
  const has = (x: number) => field.includes(x);
  const eq = field.length === arg.length && arg.every(has);
  if (relational) {
    if (field.length === 0) return false;
    const [f, a] = [field[0]!, arg[0]!];
    return fn === '<' ? f < a : fn === '<=' ? f <= a : fn === '>' ? f > a : f >= a;
  }
  if (fn === '==') return eq;
  if (fn === '!=') return !eq;
  if (fn === 'includes') return arg.every(has);
  return !arg.some(has);
}

describe('condition properties', () => {
  it('selects the same rows as a naive evaluation, for scalar, optional and set columns', () => {
    fc.assert(fc.property(fc.array(rowArb, { maxLength: 6 }), fnArb, fc.constantFrom('i', 'oi', 'si'),
      fc.uniqueArray(fc.integer({ min: -3, max: 3 }), { minLength: 1, maxLength: 3 }), (rows, fn, col, argAll) => {
        const relational = ['<', '<=', '>', '>='].includes(fn);
        if (relational && col === 'si') return;
        const arg = col === 'si' ? argAll : argAll.slice(0, 1);
        const argJson = col === 'si' ? ['set', arg] : arg[0];
        const { db } = dbWith(rows);
        const cond = compileCondition(tableA, [[col, fn, argJson]]);
        const got = [...db.table('A').rows.values()].filter((r) => cond.matches(r)).map((r) => r.columns.name!.keys[0]).sort();
        const want = rows.map((r, k) => ({ r, k }))
          .filter(({ r }) => naive(fn, col === 'i' ? [r.i] : col === 'oi' ? r.oi : r.si, arg, relational))
          .map(({ k }) => `r${k}`).sort();
        assert.deepEqual(got, want, `rows ${JSON.stringify(rows)} clause ${JSON.stringify([col, fn, argJson])}`);
      }));
  });
});

describe('mutation and transaction properties', () => {
  it('mutates sets element-wise like a naive model, or fails leaving the database unchanged', () => {
    fc.assert(fc.property(fc.array(rowArb, { minLength: 1, maxLength: 4 }), fc.constantFrom('+=', '-=', '*=', '/=', '%='),
      fc.integer({ min: -3, max: 3 }), (rows, op, k) => {
        const { db, env } = dbWith(rows);
        const before = [...db.table('A').rows.values()].map((r) => rowToJSON(tableA, r));
        const o = executeTransaction(db, [{ op: 'mutate', table: 'A', where: [], mutations: [['si', op, k]] }], env);
        assert.notEqual(o.kind, 'blocked');
        if (o.kind === 'blocked') return;
        const after = [...db.table('A').rows.values()].map((r) => rowToJSON(tableA, r));
        assert.deepEqual(after, before, 'executeTransaction must not modify the database');
        const f = (a: number) => op === '+=' ? a + k : op === '-=' ? a - k : op === '*=' ? a * k : op === '/=' ? Math.trunc(a / k) : a % k;
        // Division by zero fails per element, as OVS 3.1 does: an empty set divides by zero without error.
        const expectFail = ((op === '/=' || op === '%=') && k === 0 && rows.some((r) => r.si.length > 0)) ||
          rows.some((r) => new Set(r.si.map(f)).size !== r.si.length);
        assert.equal(o.kind, expectFail ? 'failed' : 'committed', `rows ${JSON.stringify(rows)} ${op} ${k}: ${JSON.stringify(o.results)}`);
        if (o.kind === 'failed') return;
        if (o.changes) db.commit(o.changes);
        rows.forEach((r, n) => {
          const got = datumToJSON(tableA.columns.get('si')!.type, [...db.table('A').rows.values()].find((x) => x.columns.name!.keys[0] === `r${n}`)!.columns.si!);
          const want = [...new Set(r.si.map(f))].map((x) => (x === 0 ? 0 : x)).sort((a, b) => a - b);
          assert.deepEqual(got, want.length === 1 ? want[0] : ['set', want]);
        });
      }));
  });

  it('commits changes that equal a re-query of the database', () => {
    fc.assert(fc.property(fc.array(rowArb, { maxLength: 5 }), fc.integer({ min: -3, max: 3 }), (rows, k) => {
      const { db, env } = dbWith(rows);
      const o = executeTransaction(db, [
        { op: 'update', table: 'A', where: [['i', '<', k]], row: { s: 'low' } },
        { op: 'delete', table: 'A', where: [['i', '>', k]] },
        { op: 'insert', table: 'A', row: { e: 'y', name: 'new', n2: 100 } },
      ], env);
      assert.equal(o.kind, 'committed', JSON.stringify(o));
      if (o.kind !== 'committed' || !o.changes) return;
      db.commit(o.changes);
      for (const [uuid, ch] of o.changes.get('A')!) {
        const now = db.table('A').rows.get(uuid);
        assert.equal(now, ch.new ?? undefined, `row ${uuid} after commit`);
        if (ch.old && ch.new) assert.notEqual(ch.old.version, ch.new.version, 'a modified row gets a new _version');
      }
      assert.equal(db.table('A').rows.size, rows.filter((r) => r.i <= k).length + 1);
    }));
  });
});
