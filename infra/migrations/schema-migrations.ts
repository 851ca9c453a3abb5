/**
 * `SchemaMigrations`: runs the auth migrations during `pulumi up`, as the migrator, after the
 * roles and grants exist (pass `dependsOn: [authDatabase.ready]`). Preview lists the pending
 * migrations (the `pending` input); an edited or new migration file changes `checksum` and so
 * triggers an update; drift found by verify after migrating fails the update. Delete is a no-op.
 *
 * The provider object is serialized by Pulumi into the deployment: it captures only the path of
 * `provider-entry.ts` relative to the project root and loads it (through tsx) at run time, so the
 * closure stays small, is the same for every clone, and the logic lives in ordinary, tested modules.
 */
import * as pulumi from "@pulumi/pulumi";
import { serializableProvider } from "../serializable-provider";
import { migrationFilesSummary } from "./runner";
import type { SchemaMigrationsInputs, SchemaMigrationsOutputs } from "./provider-logic";

export interface SchemaMigrationsArgs {
  /** The migrator's connection URL (`AuthDatabase.migratorUrl`). */
  readonly databaseUrl: pulumi.Input<string>;
  /** Folder of migration files. Default: the repository's `migrations/`. */
  readonly migrationsDir?: string;
}

/** Path of the provider module relative to the Pulumi project root (see serializable-provider). */
export const MIGRATIONS_PROVIDER_MODULE = "./infra/migrations/provider-entry";

/** Built once per process: serializing it is what Pulumi ships to the provider host. */
let shared: pulumi.dynamic.ResourceProvider | undefined;
export function schemaMigrationsProvider(): pulumi.dynamic.ResourceProvider {
  shared ??= serializableProvider({
    module: MIGRATIONS_PROVIDER_MODULE,
    factory: "createMigrationsProvider",
    args: [],
  });
  return shared;
}

export class SchemaMigrations extends pulumi.dynamic.Resource {
  declare readonly pending: pulumi.Output<string[]>;
  declare readonly applied: pulumi.Output<string[]>;
  declare readonly appliedByLastRun: pulumi.Output<string[]>;
  declare readonly checksum: pulumi.Output<string>;

  constructor(name: string, args: SchemaMigrationsArgs, opts?: pulumi.CustomResourceOptions) {
    const files = migrationFilesSummary(args.migrationsDir);
    const inputs: Record<keyof SchemaMigrationsOutputs, pulumi.Input<unknown>> = {
      databaseUrl: pulumi.secret(args.databaseUrl),
      checksum: files.checksum,
      migrations: files.names,
      // Only when given: a machine-specific default path in the state would differ between CI
      // and laptops and show as a change.
      migrationsDir: args.migrationsDir,
      pending: undefined,
      applied: undefined,
      appliedByLastRun: undefined,
    };
    super(
      schemaMigrationsProvider(),
      name,
      inputs,
      {
        ...opts,
        // Dynamic providers return outputs in plain text; keep the URL a secret in the state.
        additionalSecretOutputs: ["databaseUrl"],
      },
      // A named type (`pulumi-nodejs:dynamic/synter:SchemaMigrations`) instead of the generic
      // `dynamic:Resource`, so previews and plans say what it is.
      "synter",
      "SchemaMigrations",
    );
  }
}

export type { SchemaMigrationsInputs, SchemaMigrationsOutputs };
