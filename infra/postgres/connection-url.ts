/**
 * `postgresql://` connection strings, built in one place for the cloud outputs and the local
 * environment. Credentials are percent-encoded: a password may hold `@`, `:` or `/`.
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

export function postgresConnectionUrl(connection: PostgresConnection): string {
  const user = encodeURIComponent(connection.user);
  const password = encodeURIComponent(connection.password);
  const host = connection.host.includes(":") ? `[${connection.host}]` : connection.host;
  const database = encodeURIComponent(connection.database);
  return `postgresql://${user}:${password}@${host}:${connection.port}/${database}?sslmode=${connection.sslMode}`;
}
