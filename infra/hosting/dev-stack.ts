/**
 * `pr-<n>` stacks reuse the dev stack's Postgres server and Redis through a StackReference: the dev
 * stack exports its servers under these names, a PR stack reads them back as the same
 * PostgresServer / RedisServer contract and creates only its own database on them. Secrets stay
 * secrets across the reference (`getOutput` keeps the secret bit).
 */
import * as pulumi from "@pulumi/pulumi";
import type { PostgresServer, PostgresSslMode, RedisServer } from "./types";

export const DEV_STACK_EXPORTS = {
  postgresAdminHost: "postgresAdminHost",
  postgresAdminPort: "postgresAdminPort",
  postgresAdminUser: "postgresAdminUser",
  /** Secret. */
  postgresAdminPassword: "postgresAdminPassword",
  postgresAppHost: "postgresAppHost",
  postgresAppPort: "postgresAppPort",
  postgresSslMode: "postgresSslMode",
  /** Secret (DESIGN §5's `redisUrl`). */
  redisUrl: "redisUrl",
  redisHost: "redisHost",
  redisPort: "redisPort",
} as const;

/** What the dev stack exports so PR stacks can use its servers. */
export function devStackServerExports(
  postgres: PostgresServer,
  redis: RedisServer,
): Record<keyof typeof DEV_STACK_EXPORTS, pulumi.Output<unknown>> {
  return {
    postgresAdminHost: postgres.adminHost,
    postgresAdminPort: postgres.adminPort,
    postgresAdminUser: postgres.adminUser,
    postgresAdminPassword: pulumi.secret(postgres.adminPassword),
    postgresAppHost: postgres.appHost,
    postgresAppPort: postgres.appPort,
    postgresSslMode: pulumi.output(postgres.sslMode),
    redisUrl: pulumi.secret(redis.url),
    redisHost: redis.host,
    redisPort: redis.port,
  };
}

/**
 * The dev stack's servers as seen from a PR stack. `sslMode` and `tls` must be plain values at
 * construction time, so they come from the PR stack's own settings (the dev default is Railway:
 * `require`, and Redis on Railway's private network without TLS).
 */
export function serversFromDevStack(
  ref: pulumi.StackReference,
  settings: { readonly sslMode: PostgresSslMode; readonly redisTls: boolean },
): { postgres: PostgresServer; redis: RedisServer } {
  // requireOutput: a dev stack that does not export a name fails the PR stack's update with
  // that name, instead of wiring the string "undefined" into a URL.
  const text = (key: keyof typeof DEV_STACK_EXPORTS) =>
    ref.requireOutput(DEV_STACK_EXPORTS[key]).apply((v) => String(v));
  const port = (key: keyof typeof DEV_STACK_EXPORTS) =>
    ref.requireOutput(DEV_STACK_EXPORTS[key]).apply((v) => Number(v));
  return {
    postgres: {
      adminHost: text("postgresAdminHost"),
      adminPort: port("postgresAdminPort"),
      adminUser: text("postgresAdminUser"),
      adminPassword: pulumi.secret(text("postgresAdminPassword")),
      appHost: text("postgresAppHost"),
      appPort: port("postgresAppPort"),
      sslMode: settings.sslMode,
      readyResources: [ref],
    },
    redis: {
      url: pulumi.secret(text("redisUrl")),
      host: text("redisHost"),
      port: port("redisPort"),
      tls: settings.redisTls,
    },
  };
}
