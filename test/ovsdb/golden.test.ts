/**
 * Golden tests: JSON in, canonical JSON out, one file per module under golden/. Run with
 * UPDATE_GOLDEN=1 to rewrite the expected values after an intended change (then review the diff).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Database, DatabaseSchema, OvsdbError, changesToLogRecord, columnTypeFromJSON, compileCondition,
  compileMutation, applyMutation, datumFromJSON, datumToJSON, datumToString, executeTransaction, makeRow,
  defaultDatum, typeToEnglish,
} from '../../src/core/ovsdb/index.js';
import { testSchemaJSON, uuidSource } from './helpers.js';

interface Case { name: string; input: unknown; expected?: unknown }

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden');
const update = process.env.UPDATE_GOLDEN === '1';

function guard(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (e) {
    if (e instanceof OvsdbError) return { error: e.toJSON() };
    throw e;
  }
}

const schema = DatabaseSchema.fromJSON(testSchemaJSON);
const tableA = schema.tables.get('A')!;

function rowA(values: Record<string, unknown>) {
  const columns: Record<string, ReturnType<typeof defaultDatum>> = {};
  for (const c of tableA.columns.values()) {
    columns[c.name] = c.name in values ? datumFromJSON(c.type, values[c.name]) : defaultDatum(c.type);
  }
  return makeRow('10eb53d3-b72a-4b8b-80c0-c686b4a4713e', '10eb53d3-b72a-4b8b-80c0-c686b4a47100', columns);
}

/** What each golden file computes from a case input. */
const runners: Record<string, (input: any) => unknown> = {
  datum: (i: { type: unknown; json: unknown }) => guard(() => {
    const t = columnTypeFromJSON(i.type, 'type');
    const d = datumFromJSON(t, i.json);
    return { json: datumToJSON(t, d), text: datumToString(t, d), english: typeToEnglish(t) };
  }),
  schema: (i: unknown) => guard(() => DatabaseSchema.fromJSON(i).toJSON()),
  condition: (i: { where: unknown; row: Record<string, unknown> }) =>
    guard(() => compileCondition(tableA, i.where).matches(rowA(i.row))),
  mutation: (i: { mutation: unknown; row: Record<string, unknown> }) => guard(() => {
    const m = compileMutation(tableA, i.mutation);
    return datumToJSON(m.column.type, applyMutation(m, rowA(i.row).columns[m.column.name]!));
  }),
  transaction: (i: { txns: unknown[][] }) => {
    const db = new Database(schema);
    const env = { newUuid: uuidSource(3) };
    return i.txns.map((ops) => {
      const o = executeTransaction(db, ops, env);
      if (o.kind === 'blocked') return o;
      if (o.changes) db.commit(o.changes);
      return o.results;
    });
  },
  'log-record': (i: { txns: unknown[][] }) => {
    const db = new Database(schema);
    const env = { newUuid: uuidSource(5) };
    return i.txns.map((ops) => {
      const o = executeTransaction(db, ops, env);
      if (o.kind === 'blocked' || !o.changes) return null;
      const rec = changesToLogRecord(db, o.changes, { dateMs: 1700000000000, comment: o.comment });
      db.commit(o.changes);
      return rec;
    });
  },
};

describe('golden files (JSON in, canonical JSON out)', () => {
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const kind = file.replace(/\.json$/, '');
    const run = runners[kind];
    const cases = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Case[];
    describe(kind, () => {
      for (const c of cases) {
        it(c.name, () => {
          assert.ok(run, `no runner for golden file ${file}`);
          const actual = JSON.parse(JSON.stringify(run(c.input)));
          if (update) c.expected = actual;
          else assert.deepStrictEqual(actual, c.expected, `input: ${JSON.stringify(c.input)}`);
        });
      }
      after(() => {
        if (update) fs.writeFileSync(path.join(dir, file), `${JSON.stringify(cases, null, 1)}\n`);
      });
    });
  }
});
