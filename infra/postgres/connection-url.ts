/**
 * `postgresql://` connection strings, built in one place for the cloud outputs and the local
 * environment. Credentials are percent-encoded: a password may hold `@`, `:` or `/`.
 *
 * Two forms of the same URL, because its readers disagree on what `sslmode` means (DESIGN §5):
 *
 * - libpq form (`postgresConnectionUrl`): `?sslmode=<mode>`, read as libpq reads it by psql,
 *   pg_dump, the Go postgresql provider (lib/pq) and our own node-pg clients (src/migrate/
 *   postgres-tls.ts). The `postgresUrl`, `migratorUrl` and `readonlyUrl` outputs, and what a person
 *   pastes into psql.
 * - node-pg form (`nodePgConnectionUrl`): the same plus `uselibpqcompat=true`, for a reader that
 *   hands the URL to node-pg's default parser, i.e. the Synter app (`new pg.Pool({ connectionString:
 *   POSTGRES_URL })`). Without it pg 8 reads `require` as `verify-full` and fails against Railway's
 *   self-signed and Cloud SQL's privately signed certificates; with it (pg ≥ 8.14) `require` is
 *   libpq's. libpq rejects the unknown parameter, so psql users take the libpq form.
 */
import type { PostgresSslMode } from "../hosting/types";

export interface PostgresConnection {
  readonly user: string;
  readonly password: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly sslMode: PostgresSslMode;
}

/** The libpq form: psql, lib/pq and our own clients. */
export function postgresConnectionUrl(connection: PostgresConnection): string {
  const user = encodeURIComponent(connection.user);
  const password = encodeURIComponent(connection.password);
  const host = connection.host.includes(":") ? `[${connection.host}]` : connection.host;
  const database = encodeURIComponent(connection.database);
  return `postgresql://${user}:${password}@${host}:${connection.port}/${database}?sslmode=${connection.sslMode}`;
}

/** pg-connection-string's switch to libpq's sslmode meanings; libpq itself rejects it. */
export const NODE_PG_LIBPQ_COMPAT = "uselibpqcompat=true";

/**
 * The node-pg form of a libpq-form URL, for the app's `POSTGRES_URL`: `uselibpqcompat=true` is
 * added when the URL has an sslmode whose meaning differs in node-pg (anything but `disable`);
 * a URL without sslmode or with `disable` already means the same to both and is returned as is.
 */
export function nodePgConnectionUrl(url: string): string {
  const question = url.indexOf("?");
  if (question === -1) return url;
  const pairs = url.slice(question + 1).split("&");
  const sslMode = pairs.find((pair) => pair.startsWith("sslmode="))?.slice("sslmode=".length);
  if (sslMode === undefined || sslMode === "disable") return url;
  const others = pairs.filter((pair) => pair !== "" && !pair.startsWith("uselibpqcompat="));
  return `${url.slice(0, question)}?${[...others, NODE_PG_LIBPQ_COMPAT].join("&")}`;
}
