/**
 * Opening connections for the runner, with the errors a user can act on: unreachable server, bad
 * credentials, missing database, a certificate that does not verify. URLs mean what libpq means
 * (`postgres-tls.ts`); they are shown without their password.
 */
import type { Client } from "pg";
import type { PeerCertificate } from "node:tls";
import { ToolError } from "../errors/tool-error";
import { connectPostgresClient, libpqTlsParameters, type LibpqTlsParameters } from "./postgres-tls";

export const DATABASE_URL_VARIABLE = "DATABASE_URL";

/** No database URL was given, or it is not a postgres:// URL. */
export class DatabaseUrlError extends ToolError {
  constructor(message: string) {
    super("usage", message);
  }
}

/**
 * Connecting failed for a reason a user can act on: the server did not answer (`unreachable`), it
 * refused the login or the certificate did not verify (`auth`), or the URL names a database or a
 * TLS setting the server does not have (`config`).
 */
export class DatabaseConnectionError extends ToolError {
  constructor(
    kind: "unreachable" | "auth" | "config",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(kind, message, options);
  }
}

/** How the API is told where the database is: a URL, or a client the caller connected already. */
export interface DatabaseTarget {
  /**
   * `postgres://user:password@host:port/database`, with `sslmode` (and `sslrootcert`) as psql reads
   * them; defaults to `$DATABASE_URL`.
   */
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
    throw new DatabaseUrlError(
      `no database given: pass --database-url URL or set ${DATABASE_URL_VARIABLE}`,
    );
  }
  try {
    const parsed = new URL(url);
    if (!/^postgres(ql)?:$/.test(parsed.protocol)) throw new Error("scheme");
  } catch {
    throw new DatabaseUrlError(
      `invalid database URL ${redactUrl(url)}: expected postgres://user:password@host:port/database`,
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
  /** Node's TLS errors: the server's certificate (ERR_TLS_CERT_ALTNAME_INVALID). */
  cert?: PeerCertificate;
}

/** Node's codes for a server certificate whose chain does not verify against the trusted CAs. */
const UNTRUSTED_CERTIFICATE = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
]);
const OUT_OF_DATE_CERTIFICATE = new Set(["CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID"]);

function tlsParametersOf(url: string): LibpqTlsParameters | undefined {
  try {
    return libpqTlsParameters(url);
  } catch {
    return undefined;
  }
}

/** `sslmode=require with sslrootcert` when libpq's rule made require verify the chain. */
function describeMode(tls: LibpqTlsParameters | undefined): string {
  if (!tls) return "sslmode=?";
  const withRoot = tls.sslMode === "require" && tls.sslRootCert !== undefined;
  return `sslmode=${tls.sslMode}${withRoot ? " with sslrootcert" : ""}`;
}

/** The names a certificate is for: its subject alternative names, else its CN. */
function certificateNames(cert: PeerCertificate | undefined): string {
  if (cert?.subjectaltname) return cert.subjectaltname;
  const cn = cert?.subject?.CN;
  return cn ? `CN=${cn} only (no subject alternative names)` : "no names";
}

function tlsError(e: PgLikeError, where: string, url: string): ToolError | undefined {
  const tls = tlsParametersOf(url);
  const mode = describeMode(tls);
  const unverified =
    tls?.sslMode === "require"
      ? "drop sslrootcert to encrypt without verifying"
      : "use sslmode=require to encrypt without verifying";
  const fail = (kind: "auth" | "config", message: string) =>
    new DatabaseConnectionError(kind, message, { cause: e });
  if (e.code !== undefined && UNTRUSTED_CERTIFICATE.has(e.code)) {
    return fail(
      "auth",
      `cannot verify the certificate of the database at ${where} (${mode}): ${e.message}; pass sslrootcert=<file of the CA that signed it> (for a self-signed certificate, the certificate itself), or ${unverified}`,
    );
  }
  if (e.code !== undefined && OUT_OF_DATE_CERTIFICATE.has(e.code)) {
    return fail(
      "auth",
      `cannot verify the certificate of the database at ${where} (${mode}): ${e.message}; renew the server's certificate (or check this machine's clock), or ${unverified}`,
    );
  }
  if (e.code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    const host = where.slice(0, where.lastIndexOf(":"));
    return fail(
      "auth",
      `the certificate of the database at ${where} does not name ${host} (${mode}): it is for ${certificateNames(e.cert)}; connect by a host name the certificate lists, or use sslmode=verify-ca to verify the CA without the host name`,
    );
  }
  if (e.message === "The server does not support SSL connections") {
    return fail(
      "config",
      `the database at ${where} does not accept TLS connections (${mode}); turn ssl on in the server, or use sslmode=prefer or disable to connect unencrypted`,
    );
  }
  if (e.message === "There was an error establishing an SSL connection") {
    return fail(
      "config",
      `the database at ${where} refused to start TLS (${mode}); check the server's ssl settings, or use sslmode=prefer or disable`,
    );
  }
  return undefined;
}

/**
 * pg_hba.conf has no line for this login over this kind of connection, e.g. `hostssl` only and
 * sslmode=disable: "no pg_hba.conf entry for host …, user …, database …, no encryption".
 */
function pgHbaError(
  e: PgLikeError,
  where: string,
  user: string,
  database: string,
  url: string,
): ToolError | undefined {
  const match =
    /^no pg_hba\.conf entry for .*, (no encryption|SSL (?:encryption|on|off)|GSS encryption)$/.exec(
      e.message ?? "",
    );
  if (!match) return undefined;
  const unencrypted = match[1] === "no encryption" || match[1] === "SSL off";
  const mode = describeMode(tlsParametersOf(url));
  return new DatabaseConnectionError(
    "auth",
    unencrypted
      ? `the database at ${where} has no pg_hba.conf entry for user "${user}" on database "${database}" from this host without encryption (${mode}); use sslmode=require if the server accepts it encrypted`
      : `the database at ${where} has no pg_hba.conf entry for user "${user}" on database "${database}" from this host with encryption (${mode}); ask for one for this login`,
    { cause: e },
  );
}

function describeTarget(url: string): { where: string; user: string; database: string } {
  const parsed = new URL(url);
  return {
    where: `${parsed.hostname || "localhost"}:${parsed.port || "5432"}`,
    user: decodeURIComponent(parsed.username) || "(default user)",
    database: decodeURIComponent(parsed.pathname.replace(/^\//, "")) || "(default database)",
  };
}

/**
 * node-pg's errors when the server asks for a password and the URL has none: SCRAM's, and the
 * TypeError of md5 / cleartext authentication with a null password.
 */
const NO_PASSWORD_MESSAGES = [/client password must be a string/i, /^Password must be a string/];

/** Maps a connect failure to a message naming what to fix; other errors pass through. */
export function connectionError(error: unknown, url: string): Error {
  if (error instanceof ToolError) return error;
  const e = (error ?? {}) as PgLikeError;
  const { where, user, database } = describeTarget(url);
  const tls = tlsError(e, where, url);
  if (tls) return tls;
  const fail = (kind: "unreachable" | "auth" | "config", message: string) =>
    new DatabaseConnectionError(kind, message, { cause: error });
  if (NO_PASSWORD_MESSAGES.some((pattern) => pattern.test(e.message ?? ""))) {
    return fail(
      "auth",
      `the database at ${where} asks user "${user}" for a password and the URL has none; put it in the URL (postgres://${user}:PASSWORD@${where}/…)`,
    );
  }
  switch (e.code) {
    case "ECONNREFUSED":
      return fail(
        "unreachable",
        `cannot reach the database at ${where}: connection refused (is Postgres running?)`,
      );
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return fail(
        "unreachable",
        `cannot reach the database at ${where}: unknown host (check the host name in the URL)`,
      );
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return fail(
        "unreachable",
        `cannot reach the database at ${where}: ${e.code} (check the host, the port and the network path)`,
      );
    case "28000":
      return (
        pgHbaError(e, where, user, database, url) ??
        fail(
          "auth",
          `the database at ${where} rejected the credentials of user "${user}" (${e.message}); check the user and password in the URL`,
        )
      );
    case "28P01":
      return fail(
        "auth",
        `the database at ${where} rejected the credentials of user "${user}" (${e.message}); check the user and password in the URL`,
      );
    case "42501":
      return fail(
        "auth",
        `the database at ${where} refused user "${user}" (${e.message}); it lacks a privilege, e.g. CONNECT on database "${database}"`,
      );
    case "3D000":
      return fail(
        "config",
        `database "${database}" does not exist on ${where}; create it, or fix the database name in the URL`,
      );
    case "57P03":
      return fail(
        "unreachable",
        `the database at ${where} is starting up or shutting down; try again`,
      );
    default:
      if (
        e.message?.includes("timeout expired") ||
        e.message?.includes("Connection terminated due to connection timeout")
      ) {
        return fail(
          "unreachable",
          `cannot reach the database at ${where}: connection timed out (check the host, the port and the network path)`,
        );
      }
      if (e.message?.includes("Connection terminated unexpectedly")) {
        return fail(
          "unreachable",
          `the database at ${where} closed the connection while it was being opened; is it a Postgres server, and is it up?`,
        );
      }
      return error instanceof Error ? error : new Error(String(error));
  }
}

export interface ConnectOptions {
  readonly applicationName?: string;
  /** Milliseconds to wait for the TCP connection and authentication. */
  readonly connectTimeoutMs?: number;
}

/**
 * Connects a new client (TLS as libpq reads the URL, idle 'error' events ignored), turning
 * connect failures into `DatabaseConnectionError`s.
 */
export async function connect(url: string, options: ConnectOptions = {}): Promise<Client> {
  try {
    return await connectPostgresClient(url, {
      application_name: options.applicationName ?? "synter-infra migrate",
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    });
  } catch (error) {
    throw connectionError(error, url);
  }
}
