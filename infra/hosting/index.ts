/**
 * Factories infra/platform.ts calls: one hosting choice per server, each yielding the same
 * PostgresServer / RedisServer contract.
 *
 *   const hosting = createHosting("data", { postgres, redis, app }, env);
 *   // hosting.postgres → AuthDatabase; hosting.redis.url → AppWiring
 */
import type * as pulumi from "@pulumi/pulumi";
import type { RailwayProject } from "../railway";
import { CloudSqlPostgres } from "./cloudsql";
import type { AppConfig } from "./config-schema";
import type { HostingEnvironment } from "./environment";
import { externalPostgresServer, externalRedisServer } from "./external";
import { MemorystoreRedis } from "./memorystore";
import { RailwayPostgresServer, RailwayRedisServer, createRailwayProject } from "./railway";
import type { PostgresSettings, RedisSettings } from "./settings";
import type { PostgresServer, RedisServer } from "./types";

export interface HostingOptions {
  /** The Railway project/environment for `railway` choices (see `createRailwayProject`). */
  readonly railwayProject?: RailwayProject;
  readonly opts?: pulumi.ComponentResourceOptions;
}

function requireRailwayProject(options: HostingOptions, key: string): RailwayProject {
  if (options.railwayProject === undefined) {
    throw new Error(`${key} is railway but no Railway project was given`);
  }
  return options.railwayProject;
}

export function createPostgresServer(
  name: string,
  config: PostgresSettings,
  env: HostingEnvironment,
  options: HostingOptions = {},
): PostgresServer {
  switch (config.hosting) {
    case "railway":
      return new RailwayPostgresServer(
        name,
        {
          config: config.railway,
          project: requireRailwayProject(options, "postgres.hosting"),
          protect: env.protect,
        },
        options.opts,
      );
    case "cloudsql":
      return new CloudSqlPostgres(
        name,
        { ...config.cloudsql, projectId: env.projectId, labels: env.labels, protect: env.protect },
        options.opts,
      );
    case "external":
      return externalPostgresServer(config.external);
    default: {
      const unknown: never = config.hosting;
      throw new Error(`postgres.hosting: unknown choice ${String(unknown)}`);
    }
  }
}

export function createRedisServer(
  name: string,
  config: RedisSettings,
  env: HostingEnvironment,
  options: HostingOptions = {},
): RedisServer {
  switch (config.hosting) {
    case "railway":
      return new RailwayRedisServer(
        name,
        {
          config: config.railway,
          project: requireRailwayProject(options, "redis.hosting"),
          protect: env.protect,
        },
        options.opts,
      );
    case "memorystore":
      return new MemorystoreRedis(
        name,
        {
          ...config.memorystore,
          projectId: env.projectId,
          labels: env.labels,
          protect: env.protect,
        },
        options.opts,
      );
    case "external":
      return externalRedisServer(config.external);
    default: {
      const unknown: never = config.hosting;
      throw new Error(`redis.hosting: unknown choice ${String(unknown)}`);
    }
  }
}

export interface Hosting {
  readonly postgres: PostgresServer;
  readonly redis: RedisServer;
  /** Present when either server is on Railway. */
  readonly railwayProject?: RailwayProject;
}

/**
 * Both servers, sharing one Railway project when either is on Railway. Resource names:
 * `<name>-railway`, `<name>-postgres`, `<name>-redis`.
 */
export function createHosting(
  name: string,
  config: {
    readonly postgres: PostgresSettings;
    readonly redis: RedisSettings;
    readonly app: AppConfig;
  },
  env: HostingEnvironment,
  opts?: pulumi.ComponentResourceOptions,
): Hosting {
  const onRailway = config.postgres.hosting === "railway" || config.redis.hosting === "railway";
  const railwayProject = onRailway
    ? createRailwayProject(`${name}-railway`, config.app, env, opts)
    : undefined;
  const options: HostingOptions = { railwayProject, opts };
  return {
    postgres: createPostgresServer(`${name}-postgres`, config.postgres, env, options),
    redis: createRedisServer(`${name}-redis`, config.redis, env, options),
    ...(railwayProject === undefined ? {} : { railwayProject }),
  };
}

export { CloudSqlPostgres, type CloudSqlPostgresArgs } from "./cloudsql";
export { MemorystoreRedis, type MemorystoreRedisArgs } from "./memorystore";
export { externalPostgresServer, externalRedisServer, parsePostgresUrl } from "./external";
export { RailwayPostgresServer, RailwayRedisServer, createRailwayProject } from "./railway";
export type { HostingEnvironment } from "./environment";
export type * from "./settings";
export type { PostgresServer, RedisServer, PostgresSslMode } from "./types";
export * from "./config-schema";
