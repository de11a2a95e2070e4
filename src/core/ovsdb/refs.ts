/** Which columns of a table hold references (RFC 7047 §3.2 refTable/refType), and their targets. */
import type { Row } from './row.js';
import type { TableSchema } from './schema.js';
import type { BaseType } from './types.js';

/** A reference-holding part (key or value) of a column. */
export interface RefColumn {
  readonly column: string;
  readonly part: 'key' | 'value';
  readonly refTable: string;
  readonly weak: boolean;
}

const cache = new WeakMap<TableSchema, readonly RefColumn[]>();

/** The reference columns of `table`, in schema order (cached per schema object). */
export function refColumns(table: TableSchema): readonly RefColumn[] {
  let out = cache.get(table);
  if (!out) {
    const list: RefColumn[] = [];
    const add = (column: string, part: 'key' | 'value', b: BaseType | undefined) => {
      if (b?.type === 'uuid' && b.refTable !== undefined) {
        list.push({ column, part, refTable: b.refTable, weak: b.refType === 'weak' });
      }
    };
    for (const c of table.columns.values()) {
      add(c.name, 'key', c.type.key);
      add(c.name, 'value', c.type.value);
    }
    out = list;
    cache.set(table, out);
  }
  return out;
}

/** The uuids one reference part of `row` points to (duplicates included, as OVS counts them). */
export function refTargets(row: Row, rc: RefColumn): readonly string[] {
  const d = row.columns[rc.column]!;
  return (rc.part === 'key' ? d.keys : d.values!) as readonly string[];
}
