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

/** How a PR stack expects to connect to the dev stack's servers (resolved by infra/config.ts). */
export interface DevStackSettings {
  /** `org/project/stack` of the dev stack. */
  readonly name: string;
  /**
   * The dev Postgres's sslmode. It must be a plain value while the program runs (AuthDatabase's
   * provider and URLs are built from it), and a StackReference output is not, so it comes from
   * the PR stack's config (`devStackPostgresSslMode`), checked against the mode dev exports.
   */
  readonly postgresSslMode: PostgresSslMode;
  /** Whether dev's Redis speaks TLS (the Railway default does not). */
  readonly redisTls: boolean;
}

/** The message of a PR stack whose configured sslmode is not the one the dev stack exports. */
export function devStackSslModeMismatch(
  settings: DevStackSettings,
  exported: string,
  configKey: string,
): string {
  return `the dev stack ${settings.name} exports postgresSslMode ${exported}, but ${configKey} is ${settings.postgresSslMode}: set it to ${exported} (Pulumi.pr.template.yaml, so every PR stack gets it)`;
}

/**
 * The dev stack's servers as seen from a PR stack. Whatever connects to dev's Postgres (the
 * provider, every URL) waits for the check that dev exports the sslmode this stack was configured
 * with, and the update fails with `devStackSslModeMismatch` when it does not — rather than
 * connecting with a mode dev's server was not set up for.
 */
export function serversFromDevStack(
  ref: pulumi.StackReference,
  settings: DevStackSettings,
  configKey: string,
): { postgres: PostgresServer; redis: RedisServer } {
  // requireOutput: a dev stack that does not export a name fails the PR stack's update with
  // that name, instead of wiring the string "undefined" into a URL.
  const text = (key: keyof typeof DEV_STACK_EXPORTS) =>
    ref.requireOutput(DEV_STACK_EXPORTS[key]).apply((v) => String(v));
  const port = (key: keyof typeof DEV_STACK_EXPORTS) =>
    ref.requireOutput(DEV_STACK_EXPORTS[key]).apply((v) => Number(v));
  const sslModeChecked = text("postgresSslMode").apply((exported) => {
    if (exported !== settings.postgresSslMode) {
      // A RunError: the update fails with this one line, no stack trace.
      throw new pulumi.RunError(devStackSslModeMismatch(settings, exported, configKey));
    }
    return exported;
  });
  const checked = (host: pulumi.Output<string>): pulumi.Output<string> =>
    pulumi.all([host, sslModeChecked]).apply(([value]) => value);
  return {
    postgres: {
      adminHost: checked(text("postgresAdminHost")),
      adminPort: port("postgresAdminPort"),
      adminUser: text("postgresAdminUser"),
      adminPassword: pulumi.secret(text("postgresAdminPassword")),
      appHost: checked(text("postgresAppHost")),
      appPort: port("postgresAppPort"),
      sslMode: settings.postgresSslMode,
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
