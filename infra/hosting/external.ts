/**
 * Bring-your-own Postgres and Redis: connection URLs from secret config (for example the URL an
 * existing Railway Postgres plugin shows). Nothing is created. Every part parsed out of a URL is
 * derived inside `apply` on the secret, so host, port, user and password stay secrets.
 * Only the TLS choice is read from the plain config value: it decides the shape of the contract
 * (`sslMode`, `tls`) and is not sensitive.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PostgresConfig, RedisConfig } from "./config-schema";
import type { PostgresServer, PostgresSslMode, RedisServer } from "./types";

export interface ParsedPostgresUrl {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly sslMode: PostgresSslMode;
}

/** Throws without quoting the URL (it holds a password). */
export function parsePostgresUrl(url: string): ParsedPostgresUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error("the Postgres admin URL is not a URL");
  }
  const sslMode = parsed.searchParams.get("sslmode") ?? "require";
  if (
    sslMode !== "disable" &&
    sslMode !== "require" &&
    sslMode !== "verify-ca" &&
    sslMode !== "verify-full"
  ) {
    throw new Error("the Postgres admin URL has an unsupported sslmode");
  }
  return {
    // URL keeps IPv6 hosts in brackets; libpq and the provider want them bare.
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: parsed.port === "" ? 5432 : Number(parsed.port),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    sslMode,
  };
}

export function externalPostgresServer(config: PostgresConfig["external"]): PostgresServer {
  if (config.adminUrl === undefined) {
    throw new Error("postgres.external.adminUrl: required when postgres.hosting is external");
  }
  // Plain read of the one non-secret part, before the value is wrapped.
  const sslMode = parsePostgresUrl(config.adminUrl).sslMode;
  const url = pulumi.secret(config.adminUrl);
  const parsed = url.apply(parsePostgresUrl);
  const adminHost = pulumi.secret(parsed.apply((p) => p.host));
  const adminPort = pulumi.secret(parsed.apply((p) => p.port));
  return {
    adminHost,
    adminPort,
    adminUser: pulumi.secret(parsed.apply((p) => p.user)),
    adminPassword: pulumi.secret(parsed.apply((p) => p.password)),
    appHost: config.appHost === undefined ? adminHost : pulumi.output(config.appHost),
    appPort: config.appPort === undefined ? adminPort : pulumi.output(config.appPort),
    sslMode,
    readyResources: [],
  };
}

export function externalRedisServer(config: RedisConfig["external"]): RedisServer {
  if (config.url === undefined) {
    throw new Error("redis.external.url: required when redis.hosting is external");
  }
  const tls = new URL(config.url).protocol === "rediss:";
  const url = pulumi.secret(config.url);
  const parsed = url.apply((value) => new URL(value));
  return {
    url,
    host: pulumi.secret(parsed.apply((p) => p.hostname.replace(/^\[(.*)\]$/, "$1"))),
    port: pulumi.secret(parsed.apply((p) => (p.port === "" ? 6379 : Number(p.port)))),
    tls,
  };
}
