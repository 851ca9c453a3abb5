/**
 * `schema/`: the single source of truth. Pure data and pure functions: it imports no Pulumi,
 * database or cloud client, so every other part (infra, migrations check, CLI) may depend on it.
 */
export * from "./analytics";
export * from "./auth";
export * from "./dsl/bigquery";
export * from "./dsl/postgres";
export type { LegacyColumn, LegacyTable } from "./dsl/legacy";
