/**
 * Opening connections for the runner, with the errors a user can act on: unreachable server, bad
 * credentials, missing database. Connection URLs are shown without their password.
 */
import { Client, type ClientConfig } from "pg";
import { UserError } from "../cli/errors";

export const DATABASE_URL_VARIABLE = "DATABASE_URL";

/** How the API is told where the database is: a URL, or a client the caller connected already. */
export interface DatabaseTarget {
  /** `postgres://user:password@host:port/database`; defaults to `$DATABASE_URL`. */
  readonly databaseUrl?: string;
  /**
   * A connected client to run on instead of a URL. The runner then also takes its lock in this
   * session (it cannot open a second one) and restores the session settings it changes.
   */
  readonly client?: Client;
}

export function resolveDatabaseUrl(databaseUrl: string | undefined): string {
  const url = databaseUrl ?? process.env[DATABASE_URL_VARIABLE];
  if (!url) {
    throw new UserError(
      `no database given: pass --database-url URL or set ${DATABASE_URL_VARIABLE}`,
      2,
    );
  }
  try {
    const parsed = new URL(url);
    if (!/^postgres(ql)?:$/.test(parsed.protocol)) throw new Error("scheme");
  } catch {
    throw new UserError(
      `invalid database URL ${redactUrl(url)}: expected postgres://user:password@host:port/database`,
      2,
    );
  }
  return url;
}

/** The URL with its password replaced, safe for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "<unparseable URL>";
  }
}

interface PgLikeError {
  code?: string;
  message?: string;
}

function describeTarget(url: string): { where: string; user: string; database: string } {
  const parsed = new URL(url);
  return {
    where: `${parsed.hostname || "localhost"}:${parsed.port || "5432"}`,
    user: decodeURIComponent(parsed.username) || "(default user)",
    database: decodeURIComponent(parsed.pathname.replace(/^\//, "")) || "(default database)",
  };
}

/** Maps a connect failure to a message naming what to fix; other errors pass through. */
export function connectionError(error: unknown, url: string): Error {
  const e = (error ?? {}) as PgLikeError;
  const { where, user, database } = describeTarget(url);
  switch (e.code) {
    case "ECONNREFUSED":
      return new UserError(
        `cannot reach the database at ${where}: connection refused (is Postgres running?)`,
      );
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new UserError(`cannot reach the database at ${where}: unknown host`);
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return new UserError(`cannot reach the database at ${where}: ${e.code}`);
    case "28P01":
    case "28000":
      return new UserError(
        `the database at ${where} rejected the credentials of user "${user}" (${e.message})`,
      );
    case "3D000":
      return new UserError(`database "${database}" does not exist on ${where}`);
    case "57P03":
      return new UserError(`the database at ${where} is starting up or shutting down; try again`);
    default:
      if (
        e.message?.includes("timeout expired") ||
        e.message?.includes("Connection terminated due to connection timeout")
      ) {
        return new UserError(`cannot reach the database at ${where}: connection timed out`);
      }
      return error instanceof Error ? error : new Error(String(error));
  }
}

export interface ConnectOptions {
  readonly applicationName?: string;
  /** Milliseconds to wait for the TCP connection and authentication. */
  readonly connectTimeoutMs?: number;
}

/** Connects a new client, turning connect failures into UserErrors. */
export async function connect(url: string, options: ConnectOptions = {}): Promise<Client> {
  const config: ClientConfig = {
    connectionString: url,
    application_name: options.applicationName ?? "synter-infra migrate",
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
  };
  const client = new Client(config);
  // An idle client whose server goes away emits 'error'; without a listener node would crash.
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw connectionError(error, url);
  }
  return client;
}
