/**
 * Where a column's data comes from in the legacy SingleStore/MySQL database. The data migration
 * reads these, the legacy DDL used by the tests is rendered from them, and the data dictionary
 * prints them: the mapping exists once, here.
 */
export interface LegacyColumn {
  /** Column name in the legacy table. */
  readonly column: string;
  /** The legacy column definition as SingleStore declares it, e.g. `VARCHAR(128) NOT NULL`. */
  readonly definition: string;
}

export interface LegacyTable {
  /** Table name in the legacy database. */
  readonly table: string;
  /** Keys and indexes of the legacy table, as MySQL DDL clauses (`PRIMARY KEY (id)`, …). */
  readonly keys: readonly string[];
}
