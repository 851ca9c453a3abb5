/**
 * What the serialized `SchemaMigrations` provider loads in Pulumi's dynamic-provider host (by its
 * path relative to the project root, see infra/serializable-provider.ts): the provider logic bound
 * to the real migration runner. Keep the path and `createMigrationsProvider`: state refers to them.
 */
import type * as pulumi from "@pulumi/pulumi";
import {
  checkMigrations,
  createMigrations,
  diffMigrations,
  updateMigrations,
  type SchemaMigrationsInputs,
  type SchemaMigrationsOutputs,
} from "./provider-logic";
import { migrationRunner } from "./runner";

export function createMigrationsProvider(): pulumi.dynamic.ResourceProvider<
  SchemaMigrationsInputs,
  SchemaMigrationsOutputs
> {
  return {
    // The engine hands check the old *inputs* (never the outputs).
    check: (olds, news) =>
      checkMigrations(
        olds as Partial<SchemaMigrationsInputs> | undefined,
        news,
        migrationRunner(news.migrationsDir),
      ),
    diff: async (_id, olds, news) => diffMigrations(olds, news),
    create: (inputs) => createMigrations(inputs, migrationRunner(inputs.migrationsDir)),
    update: (_id, _olds, news) => updateMigrations(news, migrationRunner(news.migrationsDir)),
    // Data is never dropped by Pulumi: removing this resource leaves the schema as it is.
    delete: async () => undefined,
  };
}
