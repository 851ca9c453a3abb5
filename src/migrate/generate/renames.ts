/**
 * Declared renames (`.renamedFrom("old")` on a column, `renamedFrom: "old"` in a table's options),
 * resolved against the live schema: a declaration takes effect while the live schema still has the
 * old name and not yet the new one, and is a no-op afterwards, so it may stay in schema/ after its
 * migration. Nothing is inferred from similar columns: an undeclared vanished column is a drop.
 *
 * The planner compares the desired tables *under their previous names* with the live schema. Those
 * previous-name tables are built by the DSL itself (`pgTable`), so the constraint, index and
 * trigger names derived from table and column names are exactly the names the live objects carry,
 * and each derived object whose name changes with the rename is renamed rather than rebuilt.
 */
import {
  PgColumn,
  pgTable,
  type AnyPgColumn,
  type PgColumns,
  type PgColumnSpec,
  type PgTable,
} from "../../../schema/dsl/postgres";
import { ToolError } from "../../errors/tool-error";
import type { TableShape } from "../verify";

/** Rename declarations in schema/ that contradict each other. */
export class RenameDeclarationError extends ToolError {
  constructor(problems: readonly string[]) {
    super(
      "config",
      `invalid renamedFrom in schema/auth.ts: ${problems.join("; ")}; fix the declarations`,
    );
  }
}

export interface ResolvedRenames {
  /** The desired tables under the names the live schema has them (renames not yet applied). */
  readonly previousTables: readonly PgTable[];
  /** Table renames that take effect: new name → previous name. */
  readonly tables: ReadonlyMap<string, string>;
  /** Column renames that take effect, by the table's new name: new column → previous column. */
  readonly columns: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

function validateTableDeclarations(tables: readonly PgTable[]): void {
  const problems: string[] = [];
  const names = new Set(tables.map((t) => t.name));
  const claimed = new Map<string, string>();
  for (const table of tables) {
    const previous = table.options.renamedFrom;
    if (previous === undefined) continue;
    if (names.has(previous))
      problems.push(`table ${table.name} is renamedFrom ${previous}, which is still a table`);
    const other = claimed.get(previous);
    if (other !== undefined)
      problems.push(`tables ${other} and ${table.name} are both renamedFrom ${previous}`);
    claimed.set(previous, table.name);
  }
  if (problems.length > 0) throw new RenameDeclarationError(problems);
}

export function resolveRenames(
  tables: readonly PgTable[],
  live: ReadonlyMap<string, TableShape>,
): ResolvedRenames {
  validateTableDeclarations(tables);
  const tableRenames = new Map<string, string>();
  for (const table of tables) {
    const previous = table.options.renamedFrom;
    if (previous !== undefined && live.has(previous) && !live.has(table.name)) {
      tableRenames.set(table.name, previous);
    }
  }
  const columnRenames = new Map<string, Map<string, string>>();
  for (const table of tables) {
    const liveTable = live.get(tableRenames.get(table.name) ?? table.name);
    if (!liveTable) continue;
    const liveColumns = new Set(liveTable.columns.map((c) => c.name));
    const renames = new Map<string, string>();
    for (const [name, column] of Object.entries(table.columns)) {
      const previous = column.spec.renamedFrom;
      if (previous !== undefined && liveColumns.has(previous) && !liveColumns.has(name)) {
        renames.set(name, previous);
      }
    }
    if (renames.size > 0) columnRenames.set(table.name, renames);
  }

  const previousTable = (name: string) => tableRenames.get(name) ?? name;
  const previousColumn = (table: string, column: string) =>
    columnRenames.get(table)?.get(column) ?? column;
  const previousTables = tables.map((table) => {
    const columnName = (column: string) => previousColumn(table.name, column);
    const columns: PgColumns = {};
    for (const [name, column] of Object.entries(table.columns)) {
      const reference = column.spec.references;
      const spec: PgColumnSpec = {
        ...column.spec,
        renamedFrom: undefined,
        references: reference && {
          ...reference,
          table: previousTable(reference.table),
          column: previousColumn(reference.table, reference.column),
        },
      };
      columns[columnName(name)] = new PgColumn(spec as never) as AnyPgColumn;
    }
    const options = table.options;
    return pgTable(previousTable(table.name), columns, {
      ...options,
      renamedFrom: undefined,
      uniques: options.uniques?.map((u) => ({ columns: u.columns.map(columnName) })),
      indexes: options.indexes?.map((i) => ({ ...i, columns: i.columns.map(columnName) })),
      touchOnUpdate: options.touchOnUpdate && columnName(options.touchOnUpdate),
    });
  });
  return { previousTables, tables: tableRenames, columns: columnRenames };
}
