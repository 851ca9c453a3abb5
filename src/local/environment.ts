/**
 * `synter-infra local` (npm start): the whole platform on this machine, no cloud account.
 * Postgres 15 (embedded) with the same roles and database the cloud path creates, the migrations
 * applied as the migrator and verified, Redis with the queue settings when installed, a sample
 * dataset, and the environment variables of DESIGN §5 in `.env.local`.
 *
 * No server outlives its run: a signal during the set-up stops what was started (`signal`), the
 * servers are stopped by a reaper should this process die (src/rehearse/process-group.ts), and
 * servers an earlier run left behind anyway are adopted or stopped by the next one.
 */
import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { AUTH_DATABASE, authRoleNames, type AuthRoleKind } from "../../schema/roles";
import { postgresConnectionUrl } from "../../infra/postgres/connection-url";
import { portIsFree } from "../rehearse/process-group";
import { provisionAuthDatabase, withClient } from "./auth-roles";
import { postgresClientConfig } from "../migrate/postgres-tls";
import { loadOrCreateCredentials } from "./credentials";
import { claimRun, findLiveRun, portHolder } from "./earlier-run";
import {
  LOCAL_BIGQUERY,
  printableVariables,
  renderEnvFile,
  writeEnvFile,
  type LocalVariables,
} from "./env-file";
import {
  adoptEarlierPostgres,
  findEarlierPostgres,
  initLocalCluster,
  postgresClusterExists,
  startLocalPostgres,
  stopEarlierPostgres,
  type LocalPostgres,
} from "./postgres-server";
import {
  REDIS_INSTALL_HINT,
  adoptEarlierRedis,
  findEarlierRedis,
  findRedisServer,
  localRedisUrl,
  startLocalRedis,
  stopEarlierRedis,
  type LocalRedis,
} from "./redis-server";
import { loadSampleData } from "./sample-data";
import {
  LocalSchemaDriftError,
  LocalServersRunningError,
  LocalSetupError,
  LocalSetupInterruptedError,
} from "./local-errors";

/** What the local environment needs from the migration runner (src/migrate). */
export interface SchemaMigrations {
  /**
   * Applies pending migrations; returns the names applied by this call. Aborting `signal` cancels
   * the migration in flight (rolled back) and rejects.
   */
  apply(databaseUrl: string, signal?: AbortSignal): Promise<readonly string[]>;
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
  /**
   * Aborted on Ctrl-C, SIGTERM or SIGHUP, with the signal's name as its reason: the set-up stops
   * what it started and rejects with an `interrupted` error.
   */
  readonly signal?: AbortSignal;
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
    /** The pid of the run that owns the servers, while it runs. */
    runFile: join(root, "run.pid"),
    envFile: join(projectDir, ".env.local"),
  };
}

type LocalPaths = ReturnType<typeof localPaths>;

interface EarlierServers {
  readonly postgres: ReturnType<typeof findEarlierPostgres>;
  readonly redis: ReturnType<typeof findEarlierRedis>;
}

function findEarlierServers(
  paths: LocalPaths,
  ports: { readonly postgresPort: number; readonly redisPort: number },
): EarlierServers {
  return {
    postgres: findEarlierPostgres(paths.postgres, ports.postgresPort),
    redis: findEarlierRedis(paths.redis, ports.redisPort),
  };
}

/** "Postgres (pid 12) and Redis (pid 34)", or undefined when neither runs. */
function describeEarlier(earlier: EarlierServers): string | undefined {
  const running = [
    earlier.postgres && `Postgres (pid ${earlier.postgres.pid})`,
    earlier.redis && `Redis (pid ${earlier.redis.pid})`,
  ].filter((server): server is string => server !== undefined);
  return running.length === 0 ? undefined : running.join(" and ");
}

/** Another `synter-infra local` still runs on this project: its servers are not ours to touch. */
function refuseWhileAnotherRun(paths: LocalPaths, shown: string, prefix = ""): void {
  const pid = findLiveRun(paths.runFile);
  if (pid === undefined) return;
  throw new LocalServersRunningError(
    `${prefix}another synter-infra local (pid ${pid}) is running on ${shown}: ` +
      `stop it first (Ctrl-C in its terminal, or kill ${pid})`,
  );
}

/**
 * A server an earlier run left running: adopted when `adopt` can take it over, else stopped.
 * Either way one line says which, and why it was not adopted.
 */
async function takeOverEarlier<
  Earlier extends { readonly pid: number; readonly port: number | undefined },
  Server,
>(
  name: "postgres" | "redis",
  earlier: Earlier | undefined,
  adopt: ((earlier: Earlier) => Promise<Server | string>) | string,
  stop: (earlier: Earlier) => Promise<void>,
  log: (line: string) => void,
): Promise<Server | undefined> {
  if (earlier === undefined) return undefined;
  const adopted = typeof adopt === "string" ? adopt : await adopt(earlier);
  if (typeof adopted !== "string") {
    log(
      `${name}: adopted the server an earlier run left running (pid ${earlier.pid} on port ${earlier.port})`,
    );
    return adopted;
  }
  await stop(earlier);
  log(`${name}: stopped the server an earlier run left running (pid ${earlier.pid}: ${adopted})`);
  return undefined;
}

/** A port some other program holds is the user's to free: one line naming it and the holder. */
async function assertPortFree(port: number, flag: string): Promise<void> {
  if (await portIsFree(port)) return;
  const holder = portHolder(port);
  throw new LocalSetupError(
    `port ${port} is in use by ${holder ? `${holder.name} (pid ${holder.pid})` : "another program"}, ` +
      `not by a server of this project: stop it, or pass ${flag} <a free port>`,
  );
}

/** `synter-infra local --stop`: stops the servers an earlier run left running on the project. */
export async function stopEarlierRun(options: {
  readonly projectDir: string;
  readonly postgresPort: number;
  readonly redisPort: number;
  readonly log: (line: string) => void;
}): Promise<void> {
  const paths = localPaths(options.projectDir);
  const shown = relative(options.projectDir, paths.root);
  refuseWhileAnotherRun(paths, shown);
  const earlier = findEarlierServers(paths, options);
  if (earlier.redis) {
    await stopEarlierRedis(earlier.redis);
    options.log(`redis: stopped the server an earlier run left running (pid ${earlier.redis.pid})`);
  }
  if (earlier.postgres) {
    await stopEarlierPostgres(earlier.postgres);
    options.log(
      `postgres: stopped the server an earlier run left running (pid ${earlier.postgres.pid})`,
    );
  }
  if (!describeEarlier(earlier)) {
    options.log(`nothing to stop: no server of an earlier run is running on ${shown}`);
  }
}

export async function startLocalEnvironment(
  options: LocalEnvironmentOptions,
): Promise<LocalEnvironment> {
  const { log, signal } = options;
  const paths = localPaths(options.projectDir);
  const shown = (path: string) => relative(options.projectDir, path) || ".";
  refuseWhileAnotherRun(paths, shown(paths.root), options.reset ? "--reset refused: " : "");
  const earlier = findEarlierServers(paths, options);
  if (options.reset) {
    const running = describeEarlier(earlier);
    if (running !== undefined) {
      // Deleting the data under a running server leaves it serving files that are gone, on a
      // port the new cluster then cannot have: the user stops it first.
      throw new LocalServersRunningError(
        `--reset refused: ${running} of an earlier run ${running.includes(" and ") ? "are" : "is"} ` +
          `still running on ${shown(paths.root)}: stop ${running.includes(" and ") ? "them" : "it"} ` +
          "with `synter-infra local --stop` (npm start -- --stop), then reset",
      );
    }
    for (const path of [paths.postgres, paths.redis, paths.credentials])
      rmSync(path, { recursive: true, force: true });
    log(`reset: removed ${shown(paths.postgres)}, ${shown(paths.redis)} and the local passwords`);
  }
  // Searchable by others: as root, Postgres runs as `postgres` and must reach .local/postgres.
  // What is secret inside is private on its own (postgres/ and redis/ 0700, credentials 0600).
  mkdirSync(paths.root, { recursive: true });
  chmodSync(paths.root, 0o755);
  const credentials = loadOrCreateCredentials(paths.credentials);
  const redisBinary = options.redis ? findRedisServer() : undefined;
  const releaseRun = claimRun(paths.runFile);

  let postgres: LocalPostgres | undefined;
  let redis: LocalRedis | undefined;
  /** The servers this run started or adopted (or is starting), in start order. */
  const started: string[] = [];
  let step = "looking for servers of an earlier run";
  const stop = async () => {
    await redis?.stop();
    await postgres?.stop();
    releaseRun();
  };
  try {
    postgres = await takeOverEarlier(
      "postgres",
      earlier.postgres,
      (server) => adoptEarlierPostgres(server, options.postgresPort),
      stopEarlierPostgres,
      log,
    );
    if (postgres) started.push("Postgres");
    redis = await takeOverEarlier(
      "redis",
      earlier.redis,
      redisBinary === undefined
        ? "this run starts no Redis"
        : (server) =>
            adoptEarlierRedis(server, { port: options.redisPort, password: credentials.redis }),
      stopEarlierRedis,
      log,
    );
    if (redis) started.push("Redis");
    signal?.throwIfAborted();
    // A port some other program holds fails the start before any work, not half-way.
    if (!postgres) await assertPortFree(options.postgresPort, "--port");
    if (redisBinary !== undefined && !redis)
      await assertPortFree(options.redisPort, "--redis-port");

    let created = false;
    if (!postgres) {
      log(
        `postgres: starting PostgreSQL 15 on 127.0.0.1:${options.postgresPort} (data in ${shown(paths.postgres)})`,
      );
      started.push("Postgres");
      if (!postgresClusterExists(paths.postgres)) {
        step = "initialising Postgres";
        log("postgres: initialising a new cluster (initdb)");
        await initLocalCluster(paths.postgres, signal);
        created = true;
      }
      step = "starting Postgres";
      postgres = await startLocalPostgres({
        dataDir: paths.postgres,
        port: options.postgresPort,
        onLog: (line) => options.onServerLog?.("postgres", line),
        signal,
      });
    }
    log(`postgres: ready${created ? " (new cluster)" : ""}`);

    step = "creating the roles";
    signal?.throwIfAborted();
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

    step = "applying migrations";
    signal?.throwIfAborted();
    log(`migrations: applying pending migrations as ${roles.migrator}`);
    const applied = await options.migrations.apply(roleUrls.migrator, signal);
    log(
      applied.length === 0 ? "migrations: up to date" : `migrations: applied ${applied.join(", ")}`,
    );
    step = "verifying the schema";
    signal?.throwIfAborted();
    const drift = await options.migrations.verify(roleUrls.migrator);
    if (drift.length > 0) {
      throw new LocalSchemaDriftError(
        `verify: the local database differs from schema/ (run with --reset to rebuild it):\n  ${drift.join("\n  ")}`,
      );
    }
    log("verify: the database matches schema/");

    if (options.sampleData) {
      step = "loading the sample data";
      signal?.throwIfAborted();
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
    } else if (redisBinary === undefined) {
      log(
        `redis: redis-server is not installed, so REDIS_URL is not set; install it: ${REDIS_INSTALL_HINT}`,
      );
      notes.push(`redis-server is not installed: ${REDIS_INSTALL_HINT}`);
    } else {
      if (!redis) {
        step = "starting Redis";
        signal?.throwIfAborted();
        log(`redis: starting redis-server on 127.0.0.1:${options.redisPort}`);
        started.push("Redis");
        redis = await startLocalRedis(redisBinary, {
          dataDir: paths.redis,
          port: options.redisPort,
          password: credentials.redis,
          onLog: (line) => options.onServerLog?.("redis", line),
          signal,
        });
      }
      log(
        `redis: ready on 127.0.0.1:${redis.port} (maxmemory-policy ${redis.settings.maxmemoryPolicy}, ` +
          `appendonly ${redis.settings.appendonly}; data in ${shown(paths.redis)})`,
      );
      redisUrl = localRedisUrl(credentials.redis, redis.port);
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
    if (signal?.aborted) {
      const what =
        started.length === 0 ? "nothing had started" : `stopped ${started.reverse().join(" and ")}`;
      throw new LocalSetupInterruptedError(
        `${String(signal.reason)} during set-up, while ${step}: ${what}; ` +
          `the data in ${shown(paths.root)} is kept, run it again to finish`,
      );
    }
    throw error;
  }
}
