/**
 * What the serialized `SchemaMigrations` provider calls: the provider logic bound to the real
 * migration runner. Loaded at deployment time by absolute path.
 */
import {
  checkMigrations,
  createMigrations,
  diffMigrations,
  updateMigrations,
  type SchemaMigrationsInputs,
  type SchemaMigrationsOutputs,
} from "./provider-logic";
import { migrationRunner } from "./runner";

export const check = (
  olds: Partial<SchemaMigrationsOutputs> | undefined,
  news: SchemaMigrationsInputs,
) => checkMigrations(olds, news, migrationRunner(news.migrationsDir));
export const diff = (olds: SchemaMigrationsOutputs, news: SchemaMigrationsInputs) =>
  diffMigrations(olds, news);
export const create = (inputs: SchemaMigrationsInputs) =>
  createMigrations(inputs, migrationRunner(inputs.migrationsDir));
export const update = (news: SchemaMigrationsInputs) =>
  updateMigrations(news, migrationRunner(news.migrationsDir));
