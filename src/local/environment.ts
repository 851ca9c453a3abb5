/**
 * `synter-infra local` (npm start): the whole platform on this machine, no cloud account.
 * Postgres 15 (embedded) with the same roles and database the cloud path creates, the migrations
 * applied as the migrator and verified, Redis with the queue settings when installed, a sample
 * dataset, and the environment variables of DESIGN §5 in `.env.local`.
 */
import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { AUTH_DATABASE, authRoleNames, type AuthRoleKind } from "../../schema/roles";
import { postgresConnectionUrl } from "../../infra/postgres/connection-url";
import { provisionAuthDatabase, withClient } from "./auth-roles";
import { postgresClientConfig } from "../migrate/postgres-tls";
import { loadOrCreateCredentials } from "./credentials";
import {
  LOCAL_BIGQUERY,
  printableVariables,
  renderEnvFile,
  writeEnvFile,
  type LocalVariables,
} from "./env-file";
import { startLocalPostgres, type LocalPostgres } from "./postgres-server";
import {
  REDIS_INSTALL_HINT,
  findRedisServer,
  localRedisUrl,
  startLocalRedis,
  type LocalRedis,
} from "./redis-server";
import { loadSampleData } from "./sample-data";
import { LocalSchemaDriftError } from "./local-errors";

/** What the local environment needs from the migration runner (src/migrate). */
export interface SchemaMigrations {
  /** Applies pending migrations; returns the names applied by this call. */
  apply(databaseUrl: string): Promise<readonly string[]>;
  /** Compares the live schema with schema/; returns one line per difference (empty: none). */
  verify(databaseUrl: string): Promise<readonly string[]>;
}

export interface LocalEnvironmentOptions {
  /** The project folder: `.local/` and `.env.local` live here. */
  readonly projectDir: string;
  readonly postgresPort: number;
  readonly redisPort: number;
  /** False with --no-redis. */
  readonly redis: boolean;
  /** Wipe `.local/postgres`, `.local/redis` and the local passwords first. */
  readonly reset: boolean;
  readonly sampleData: boolean;
  readonly migrations: SchemaMigrations;
  /** One progress line per step. */
  readonly log: (line: string) => void;
  readonly onServerLog?: (server: "postgres" | "redis", line: string) => void;
}

export interface LocalEnvironment {
  readonly variables: LocalVariables;
  readonly envFile: string;
  /** Every role's URL, for tests and tools (the readonly one is neither printed nor written). */
  readonly roleUrls: Readonly<Record<AuthRoleKind, string>>;
  readonly redisRunning: boolean;
  /** Stops Redis, then Postgres; resolves when both have exited. Safe to call twice. */
  stop(): Promise<void>;
}

export function localPaths(projectDir: string) {
  const root = join(projectDir, ".local");
  return {
    root,
    postgres: join(root, "postgres"),
    redis: join(root, "redis"),
    credentials: join(root, "credentials.json"),
    envFile: join(projectDir, ".env.local"),
  };
}

export async function startLocalEnvironment(
  options: LocalEnvironmentOptions,
): Promise<LocalEnvironment> {
  const { log } = options;
  const paths = localPaths(options.projectDir);
  const shown = (path: string) => relative(options.projectDir, path) || ".";
  if (options.reset) {
    for (const path of [paths.postgres, paths.redis, paths.credentials])
      rmSync(path, { recursive: true, force: true });
    log(`reset: removed ${shown(paths.postgres)}, ${shown(paths.redis)} and the local passwords`);
  }
  // Searchable by others: as root, Postgres runs as `postgres` and must reach .local/postgres.
  // What is secret inside is private on its own (postgres/ and redis/ 0700, credentials 0600).
  mkdirSync(paths.root, { recursive: true });
  chmodSync(paths.root, 0o755);
  const credentials = loadOrCreateCredentials(paths.credentials);

  let postgres: LocalPostgres | undefined;
  let redis: LocalRedis | undefined;
  const stop = async () => {
    await redis?.stop();
    await postgres?.stop();
  };
  try {
    log(
      `postgres: starting PostgreSQL 15 on 127.0.0.1:${options.postgresPort} (data in ${shown(paths.postgres)})`,
    );
    postgres = await startLocalPostgres({
      dataDir: paths.postgres,
      port: options.postgresPort,
      onLog: (line) => options.onServerLog?.("postgres", line),
    });
    log(`postgres: ready${postgres.created ? " (new cluster)" : ""}`);

    const roles = authRoleNames(AUTH_DATABASE);
    const server = postgres;
    const provisioned = await provisionAuthDatabase((db) => server.superuserConfig(db), {
      database: AUTH_DATABASE,
      passwords: credentials.postgres,
    });
    log(
      `roles: ${Object.values(roles).join(", ")} and database ${AUTH_DATABASE} ` +
        `${provisioned.createdDatabase ? "created" : "up to date"} (schema/roles.ts)`,
    );

    const urlFor = (kind: AuthRoleKind) =>
      postgresConnectionUrl({
        user: roles[kind],
        password: credentials.postgres[kind],
        host: server.host,
        port: server.port,
        database: AUTH_DATABASE,
        sslMode: "disable",
      });
    const roleUrls = {
      migrator: urlFor("migrator"),
      app: urlFor("app"),
      readonly: urlFor("readonly"),
    };

    const applied = await options.migrations.apply(roleUrls.migrator);
    log(
      applied.length === 0 ? "migrations: up to date" : `migrations: applied ${applied.join(", ")}`,
    );
    const drift = await options.migrations.verify(roleUrls.migrator);
    if (drift.length > 0) {
      throw new LocalSchemaDriftError(
        `verify: the local database differs from schema/ (run with --reset to rebuild it):\n  ${drift.join("\n  ")}`,
      );
    }
    log("verify: the database matches schema/");

    if (options.sampleData) {
      const added = await withClient(postgresClientConfig(roleUrls.app), loadSampleData);
      log(
        added.users + added.sessions + added.campaignPolicies === 0
          ? "sample data: already loaded"
          : `sample data: +${added.users} users, +${added.sessions} sessions, +${added.campaignPolicies} campaign policies (as ${roles.app})`,
      );
    }

    let redisUrl: string | undefined;
    const notes: string[] = [];
    if (!options.redis) {
      log("redis: skipped (--no-redis); REDIS_URL is not set");
      notes.push("Redis skipped (--no-redis): REDIS_URL is not set.");
    } else {
      const binary = findRedisServer();
      if (binary === undefined) {
        log(
          `redis: redis-server is not installed, so REDIS_URL is not set; install it: ${REDIS_INSTALL_HINT}`,
        );
        notes.push(`redis-server is not installed: ${REDIS_INSTALL_HINT}`);
      } else {
        redis = await startLocalRedis(binary, {
          dataDir: paths.redis,
          port: options.redisPort,
          password: credentials.redis,
          onLog: (line) => options.onServerLog?.("redis", line),
        });
        log(
          `redis: ready on 127.0.0.1:${redis.port} (maxmemory-policy ${redis.settings.maxmemoryPolicy}, ` +
            `appendonly ${redis.settings.appendonly}; data in ${shown(paths.redis)})`,
        );
        redisUrl = localRedisUrl(credentials.redis, redis.port);
      }
    }

    const variables: LocalVariables = {
      POSTGRES_URL: roleUrls.app,
      MIGRATOR_POSTGRES_URL: roleUrls.migrator,
      ...(redisUrl === undefined ? {} : { REDIS_URL: redisUrl }),
      BIGQUERY_PROJECT_ID: LOCAL_BIGQUERY.projectId,
      BIGQUERY_DATASET: LOCAL_BIGQUERY.dataset,
    };
    writeEnvFile(paths.envFile, renderEnvFile(variables, notes));
    log(`environment: written to ${shown(paths.envFile)} (git-ignored; passwords masked below)`);
    for (const line of printableVariables(variables)) log(`  ${line}`);

    let stopped: Promise<void> | undefined;
    return {
      variables,
      envFile: paths.envFile,
      roleUrls,
      redisRunning: redis !== undefined,
      stop: () => (stopped ??= stop()),
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
