/**
 * The migration runner's programmatic API, used by the CLI (`synter-infra migrate`), the
 * `pulumi up` migration resource and the local environment. Only wiring: see the modules.
 */
export {
  DATABASE_URL_VARIABLE,
  DatabaseConnectionError,
  DatabaseUrlError,
  redactUrl,
  resolveDatabaseUrl,
  type DatabaseTarget,
} from "./connection";
export {
  DEFAULT_MIGRATIONS_DIR,
  MigrationFilesError,
  MigrationNameError,
  createMigration,
  migrationsChecksum,
  readMigrationFiles,
  type CreateMigrationOptions,
  type MigrationFile,
} from "./files";
export {
  CHECKSUMS_TABLE,
  MIGRATIONS_TABLE,
  type HistoryProblem,
  type HistoryProblemKind,
} from "./history";
export {
  DEFAULT_LOCK_TIMEOUT,
  DEFAULT_STATEMENT_TIMEOUT,
  LOCK_TIMEOUT_VARIABLE,
  MIGRATION_LOCK_KEY,
  MigrationFailedError,
  MigrationHistoryError,
  MigrationInterruptedError,
  MigrationOptionError,
  STATEMENT_TIMEOUT_VARIABLE,
  runMigrations,
  type MigrationDirection,
  type MigrationRun,
  type RunMigrationsOptions,
  type RunMigrationsResult,
} from "./runner";
export {
  migrationStatus,
  pendingMigrations,
  type AppliedMigrationStatus,
  type AppliedState,
  type MigrationStatus,
  type MigrationStatusOptions,
  type PendingMigrationStatus,
} from "./status";
export {
  SchemaDriftError,
  compareShapes,
  desiredShape,
  verifySchema,
  type SchemaDifference,
  type SchemaObjectKind,
  type VerifyResult,
  type VerifySchemaOptions,
} from "./verify";
