/**
 * Railway as a hosting choice: infra/railway's dynamic resources adapted to PostgresServer and
 * RedisServer. Both services go into one Railway project/environment — the app's own when
 * `app.railway` is configured, so the app reaches them over Railway's private network — and
 * Postgres gets a TCP proxy, because Pulumi and CI run outside Railway and must reach it for roles
 * and migrations. Redis has no proxy: only the app (inside the project) talks to it.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { RailwayPostgres, RailwayProject, RailwayRedis, RailwayTcpProxy } from "../railway";
import type { AppConfig, PostgresConfig, RedisConfig } from "./config-schema";
import type { HostingEnvironment } from "./environment";
import type { PostgresServer, RedisServer } from "./types";

export const RAILWAY_PASSWORD_LENGTH = 32;
/** The image's bootstrap superuser, which creates the auth database and roles. */
export const RAILWAY_POSTGRES_ADMIN_USER = "postgres";

/**
 * The project and environment the data services live in: the app's (adopted, never deleted) when
 * its ids are configured, else a project `synter-<stack>` owned by this stack.
 */
export function createRailwayProject(
  name: string,
  app: AppConfig,
  env: Pick<HostingEnvironment, "stack" | "protect">,
  opts?: pulumi.CustomResourceOptions,
): RailwayProject {
  const existing = app.railway;
  return new RailwayProject(
    name,
    existing?.projectId !== undefined && existing.environmentId !== undefined
      ? { existingProjectId: existing.projectId, existingEnvironmentId: existing.environmentId }
      : { name: `synter-${env.stack}`, environmentName: env.stack },
    { ...opts, protect: env.protect },
  );
}

export interface RailwayPostgresServerArgs {
  readonly config: PostgresConfig["railway"];
  readonly project: RailwayProject;
  /** Pulumi `protect` on the service, whose volume holds the data. Default false. */
  readonly protect?: boolean;
}

export class RailwayPostgresServer extends pulumi.ComponentResource implements PostgresServer {
  readonly adminHost: pulumi.Output<string>;
  readonly adminPort: pulumi.Output<number>;
  readonly adminUser: pulumi.Output<string>;
  readonly adminPassword: pulumi.Output<string>;
  readonly appHost: pulumi.Output<string>;
  readonly appPort: pulumi.Output<number>;
  /** Railway's SSL image serves a self-signed certificate: encrypted, not verifiable. */
  readonly sslMode = "require" as const;
  readonly readyResources: readonly pulumi.Resource[];
  readonly service: RailwayPostgres;
  readonly proxy: RailwayTcpProxy;

  constructor(
    name: string,
    args: RailwayPostgresServerArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("synter:hosting:RailwayPostgresServer", name, {}, opts);
    const protect = args.protect ?? false;
    const password = new random.RandomPassword(
      `${name}-password`,
      { length: RAILWAY_PASSWORD_LENGTH, special: false },
      { parent: this },
    );
    this.service = new RailwayPostgres(
      name,
      {
        projectId: args.project.projectId,
        environmentId: args.project.environmentId,
        serviceName: args.config.serviceName,
        // Passed explicitly so the resource registers `user` as an output.
        user: RAILWAY_POSTGRES_ADMIN_USER,
        password: pulumi.secret(password.result),
      },
      // The service owns the volume: deleting it deletes the data.
      { parent: this, protect },
    );
    this.proxy = new RailwayTcpProxy(
      `${name}-proxy`,
      {
        environmentId: args.project.environmentId,
        serviceId: this.service.serviceId,
        applicationPort: this.service.port,
        // Create returns once Postgres itself answers through the proxy: the postgresql provider
        // that comes next connects once, without retry.
        protocol: "postgres",
      },
      { parent: this },
    );
    this.adminHost = this.proxy.domain;
    this.adminPort = this.proxy.proxyPort;
    this.adminUser = this.service.user;
    this.adminPassword = pulumi.secret(this.service.password);
    this.appHost = this.service.privateHost;
    this.appPort = this.service.port;
    this.readyResources = [this.service, this.proxy];
    this.registerOutputs({ adminHost: this.adminHost, appHost: this.appHost });
  }
}

export interface RailwayRedisServerArgs {
  readonly config: RedisConfig["railway"];
  readonly project: RailwayProject;
  /** Pulumi `protect` on the service. Default false. */
  readonly protect?: boolean;
}

export class RailwayRedisServer extends pulumi.ComponentResource implements RedisServer {
  readonly url: pulumi.Output<string>;
  readonly host: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  /** Railway's private network is encrypted (WireGuard); Redis itself speaks plain RESP. */
  readonly tls = false;
  readonly service: RailwayRedis;

  constructor(name: string, args: RailwayRedisServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("synter:hosting:RailwayRedisServer", name, {}, opts);
    const password = new random.RandomPassword(
      `${name}-password`,
      { length: RAILWAY_PASSWORD_LENGTH, special: false },
      { parent: this },
    );
    this.service = new RailwayRedis(
      name,
      {
        projectId: args.project.projectId,
        environmentId: args.project.environmentId,
        serviceName: args.config.serviceName,
        password: pulumi.secret(password.result),
      },
      { parent: this, protect: args.protect ?? false },
    );
    this.url = pulumi.secret(this.service.url);
    this.host = this.service.privateHost;
    this.port = this.service.port;
    this.registerOutputs({ url: this.url });
  }
}
