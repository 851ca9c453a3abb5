/**
 * Opening connections for the runner, with the errors a user can act on: unreachable server, bad
 * credentials, missing database, a certificate that does not verify. URLs mean what libpq means
 * (`postgres-tls.ts`); they are shown without their password.
 */
import type { Client } from "pg";
import type { PeerCertificate } from "node:tls";
import { UserError } from "../cli/errors";
import {
  connectPostgresClient,
  libpqTlsParameters,
  PostgresUrlError,
  type LibpqTlsParameters,
} from "./postgres-tls";

export const DATABASE_URL_VARIABLE = "DATABASE_URL";

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

function tlsError(e: PgLikeError, where: string, url: string): UserError | undefined {
  const tls = tlsParametersOf(url);
  const mode = describeMode(tls);
  const unverified =
    tls?.sslMode === "require"
      ? "drop sslrootcert to encrypt without verifying"
      : "use sslmode=require to encrypt without verifying";
  if (e.code !== undefined && UNTRUSTED_CERTIFICATE.has(e.code)) {
    return new UserError(
      `cannot verify the certificate of the database at ${where} (${mode}): ${e.message}; pass sslrootcert=<file of the CA that signed it> (for a self-signed certificate, the certificate itself), or ${unverified}`,
    );
  }
  if (e.code !== undefined && OUT_OF_DATE_CERTIFICATE.has(e.code)) {
    return new UserError(
      `cannot verify the certificate of the database at ${where} (${mode}): ${e.message}; renew the server's certificate (or check this machine's clock), or ${unverified}`,
    );
  }
  if (e.code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    const host = where.slice(0, where.lastIndexOf(":"));
    return new UserError(
      `the certificate of the database at ${where} does not name ${host} (${mode}): it is for ${certificateNames(e.cert)}; connect by a host name the certificate lists, or use sslmode=verify-ca to verify the CA without the host name`,
    );
  }
  if (e.message === "The server does not support SSL connections") {
    return new UserError(
      `the database at ${where} does not accept TLS connections (${mode}); turn ssl on in the server, or use sslmode=prefer or disable to connect unencrypted`,
    );
  }
  if (e.message === "There was an error establishing an SSL connection") {
    return new UserError(`the database at ${where} refused to start TLS (${mode})`);
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
): UserError | undefined {
  const match =
    /^no pg_hba\.conf entry for .*, (no encryption|SSL (?:encryption|on|off)|GSS encryption)$/.exec(
      e.message ?? "",
    );
  if (!match) return undefined;
  const unencrypted = match[1] === "no encryption" || match[1] === "SSL off";
  const mode = describeMode(tlsParametersOf(url));
  return new UserError(
    unencrypted
      ? `the database at ${where} has no pg_hba.conf entry for user "${user}" on database "${database}" from this host without encryption (${mode}); use sslmode=require if the server accepts it encrypted`
      : `the database at ${where} has no pg_hba.conf entry for user "${user}" on database "${database}" from this host with encryption (${mode}); ask for one for this login`,
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

/** Maps a connect failure to a message naming what to fix; other errors pass through. */
export function connectionError(error: unknown, url: string): Error {
  if (error instanceof PostgresUrlError) return new UserError(error.message, 2);
  const e = (error ?? {}) as PgLikeError;
  const { where, user, database } = describeTarget(url);
  const tls = tlsError(e, where, url);
  if (tls) return tls;
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
    case "28000":
      return (
        pgHbaError(e, where, user, database, url) ??
        new UserError(
          `the database at ${where} rejected the credentials of user "${user}" (${e.message})`,
        )
      );
    case "28P01":
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

/**
 * Connects a new client (TLS as libpq reads the URL, idle 'error' events ignored), turning
 * connect failures into UserErrors.
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
