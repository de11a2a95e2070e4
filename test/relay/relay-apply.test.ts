import assert from 'node:assert/strict'
import {Database, DatabaseSchema, type Changes} from '../../src/core/ovsdb/index.js'
import {ReplicaMismatchError, snapshotToChanges, updatesToChanges} from '../../src/core/server/relay-apply.js'
import {testSchemaJSON} from '../server/harness.js'

const a = '00000000-0000-4000-8000-00000000000a'
const b = '00000000-0000-4000-8000-00000000000b'
let versions = 0
const newVersion = () => `00000000-0000-4000-9000-${(++versions).toString(16).padStart(12, '0')}`

function fresh(): Database {
  return new Database(DatabaseSchema.fromJSON(testSchemaJSON))
}

/** Applies updates the way a relay does (changes computed, then committed). */
function apply(db: Database, updates: unknown): Changes {
  const changes = updatesToChanges(db, updates, newVersion)
  db.commit(changes)
  return changes
}

function names(db: Database): Record<string, unknown> {
  return Object.fromEntries([...db.table('Switch').rows.values()].map((r) => [r.uuid, r.columns.name.keys[0]]))
}

describe('relay replica: applying <table-updates2> from a source', () => {
  it('inserts, modifies with a diff and deletes rows under the source uuids', () => {
    const db = fresh()
    apply(db, {Switch: {[a]: {insert: {name: 'sw-a', tags: ['set', [1, 2]]}}, [b]: {initial: {name: 'sw-b'}}}})
    assert.deepEqual(names(db), {[a]: 'sw-a', [b]: 'sw-b'})
    // A set diff names the elements to toggle (ovsdb-server(7) §4.1.14): 2 leaves, 3 enters.
    apply(db, {Switch: {[a]: {modify: {name: 'sw-a2', tags: ['set', [2, 3]]}}}})
    const row = db.table('Switch').rows.get(a)!
    assert.equal(row.columns.name.keys[0], 'sw-a2')
    assert.deepEqual(row.columns.tags.keys, [1, 3])
    apply(db, {Switch: {[b]: {delete: null}}})
    assert.deepEqual(names(db), {[a]: 'sw-a2'})
  })

  it('ignores the _version column a source sends with every row change', () => {
    const db = fresh()
    apply(db, {Switch: {[a]: {insert: {name: 'x', _version: ['uuid', b]}}}})
    assert.equal(db.table('Switch').rows.get(a)!.columns.name.keys[0], 'x')
  })

  it('refuses a modify or delete of a row it does not hold, so that the relay takes a full snapshot', () => {
    const db = fresh()
    assert.throws(() => updatesToChanges(db, {Switch: {[a]: {modify: {name: 'y'}}}}, newVersion), ReplicaMismatchError)
    assert.throws(() => updatesToChanges(db, {Switch: {[a]: {delete: null}}}, newVersion), ReplicaMismatchError)
    assert.throws(() => updatesToChanges(db, {Nope: {[a]: {insert: {}}}}, newVersion), /table "Nope"/)
    assert.throws(() => updatesToChanges(db, {Switch: {[a]: {insert: {colour: 'red'}}}}, newVersion), /column "colour"/)
  })

  it('turns a full snapshot into only the rows that differ: unchanged rows stay, missing rows go', () => {
    const db = fresh()
    apply(db, {Switch: {[a]: {insert: {name: 'same'}}, [b]: {insert: {name: 'gone'}}}})
    const kept = db.table('Switch').rows.get(a)
    const c = '00000000-0000-4000-8000-00000000000c'
    const changes = snapshotToChanges(db, ['Switch', 'Port'], {Switch: {[a]: {initial: {name: 'same'}}, [c]: {initial: {name: 'new'}}}}, newVersion)
    const rows = changes.get('Switch')!
    assert.deepEqual([...rows.keys()].sort(), [b, c], `changed rows: ${JSON.stringify([...rows.keys()])}`)
    assert.equal(rows.get(b)!.new, null)
    db.commit(changes)
    assert.equal(db.table('Switch').rows.get(a), kept, 'an unchanged row was replaced')
    assert.deepEqual(names(db), {[a]: 'same', [c]: 'new'})
  })

  it('leaves tables that are not followed alone when a snapshot arrives', () => {
    const db = fresh()
    apply(db, {Switch: {[a]: {insert: {name: 'local'}}}})
    assert.equal(snapshotToChanges(db, ['Port'], {}, newVersion).size, 0)
  })
})
