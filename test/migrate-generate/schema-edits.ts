/**
 * Building edited copies of schema/auth.ts for the generator's tests: a table replaced, dropped or
 * added, through the real DSL (`pgTable`), so derived names and validation are the real ones.
 */
import { authTableList } from "../../schema/auth";
import {
  pgTable,
  type PgColumns,
  type PgTable,
  type PgTableOptions,
} from "../../schema/dsl/postgres";

/** `pgTable` over plain string-keyed columns (the tests build tables generically). */
export function table(
  name: string,
  columns: PgColumns,
  options: PgTableOptions<PgColumns>,
): PgTable {
  return pgTable(name, columns, options);
}

export function authTable(name: string): PgTable {
  const found = authTableList.find((t) => t.name === name);
  if (!found) throw new Error(`no auth table ${name}`);
  return found;
}

/**
 * The auth tables with `name` replaced by what `edit` returns (given its columns and options);
 * `null` drops it.
 */
export function editTable(
  name: string,
  edit: (columns: PgColumns, options: PgTableOptions<PgColumns>) => PgTable | null,
  tables: readonly PgTable[] = authTableList,
): PgTable[] {
  return tables.flatMap((t) => {
    if (t.name !== name) return [t];
    const edited = edit({ ...t.columns }, t.options);
    return edited ? [edited] : [];
  });
}

/** Without `column`. */
export function without(columns: PgColumns, column: string): PgColumns {
  const rest = { ...columns };
  delete rest[column];
  return rest;
}
