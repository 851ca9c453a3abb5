/**
 * The only module that reaches into node-pg-migrate beyond its package root. Its public API is
 * `runner()`, which opens its own transaction, takes its own lock and keeps its own bookkeeping; we
 * need the parts underneath it, so an upgrade that moves one of them breaks here, in one place:
 *
 * - `createDb` (dist/db): the query wrapper `Migration` runs on, built over *our* client so each
 *   file runs inside the transaction, lock and timeouts the runner sets up (src/migrate/runner.ts).
 * - `getActions` (dist/sqlMigration): how node-pg-migrate turns a `.sql` file into `up`/`down`
 *   (its `-- Up Migration` / `-- Down Migration` markers), so `.sql` files behave as under its CLI.
 * - `MigrationBuilder` (dist/migrationBuilder): the root exports only its type; `diff` needs the
 *   class to render a migration's SQL offline, as node-pg-migrate's own `--dry-run` does
 *   (src/diff/migration-sql.ts).
 * - `Logger`, `MigrationBuilderActions` (dist/types): the types of what the above take.
 *
 * `Migration` and `RunnerOption` are public (the package root); they come through here so both
 * callers see the one set of node-pg-migrate types.
 */
export { Migration, type RunnerOption } from "node-pg-migrate";
export { default as createDb } from "node-pg-migrate/dist/db";
export { getActions } from "node-pg-migrate/dist/sqlMigration";
export { default as MigrationBuilder } from "node-pg-migrate/dist/migrationBuilder";
export type { Logger, MigrationBuilderActions } from "node-pg-migrate/dist/types";
