/**
 * Postgres URLs read with libpq's meaning (DESIGN §5), for every node-pg client of ours: the
 * migration runner, the data migration, the local environment. node-pg's own parser
 * (pg-connection-string 2.x) treats `sslmode=require` and `verify-ca` as `verify-full`, so a URL
 * that works in psql fails against Railway (self-signed certificate) or Cloud SQL (private CA,
 * reached by IP address). Here, as in libpq:
 *
 * | sslmode           | TLS | chain verified                         | host name checked |
 * |-------------------|-----|----------------------------------------|-------------------|
 * | `disable`         | no  |                                        |                   |
 * | `allow`, `prefer` | yes, plaintext if the server has none | no      | no                |
 * | `require`         | yes | only when a root certificate is given  | no                |
 * | `verify-ca`       | yes | against `sslrootcert` (required)       | no                |
 * | `verify-full`     | yes | against `sslrootcert`, else system CAs | yes               |
 *
 * No sslmode means `$PGSSLMODE`, else `prefer` (libpq's default); `sslrootcert` defaults to
 * `$PGSSLROOTCERT`, else `~/.postgresql/root.crt` when that file exists, and `sslrootcert=system`
 * means the system's CAs with `verify-full` (libpq ≥ 16). One divergence: libpq refuses
 * `verify-full` without a root certificate file, we use the system CAs (node-pg's behaviour), so a
 * server with a publicly signed certificate needs no file. Over a Unix socket there is no TLS.
 *
 * Nothing here imports the CLI: a bad URL is a `PostgresUrlError` (a usage error) and connection
 * failures keep node's and node-pg's errors; `connection.ts` turns both into messages.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { Client, type ClientConfig } from "pg";
import { ToolError } from "../errors/tool-error";

export const LIBPQ_SSL_MODES = [
  "disable",
  "allow",
  "prefer",
  "require",
  "verify-ca",
  "verify-full",
] as const;
export type LibpqSslMode = (typeof LIBPQ_SSL_MODES)[number];

/** A URL whose TLS parameters libpq would refuse too. */
export class PostgresUrlError extends ToolError {
  constructor(message: string) {
    super("usage", message);
  }
}

/** Where libpq's defaults come from; tests pass their own. */
export interface LibpqEnvironment {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly homeDir?: string;
}

/**
 * Query parameters this module interprets; they are taken out of the URL handed to node-pg, whose
 * parser would otherwise give them its own meaning (and print its sslmode deprecation warning).
 * `uselibpqcompat` (node-pg's switch to libpq's meaning) is what we do anyway.
 */
const TLS_PARAMETERS = new Set([
  "sslmode",
  "sslrootcert",
  "sslcert",
  "sslkey",
  "sslnegotiation",
  "ssl",
  "uselibpqcompat",
]);

export interface LibpqTlsParameters {
  /** After the defaults: the URL's, else `$PGSSLMODE`, else `prefer`. */
  readonly sslMode: LibpqSslMode;
  /** The root certificate file, or `system`; undefined when there is none. */
  readonly sslRootCert?: string;
  readonly sslCert?: string;
  readonly sslKey?: string;
  readonly sslNegotiation?: "postgres" | "direct";
  /** A Unix-socket host: libpq never uses TLS there. */
  readonly unixSocket: boolean;
}

function splitQuery(url: string): { base: string; pairs: string[] } {
  const hash = url.indexOf("#");
  const withoutFragment = hash === -1 ? url : url.slice(0, hash);
  const question = withoutFragment.indexOf("?");
  if (question === -1) return { base: withoutFragment, pairs: [] };
  return {
    base: withoutFragment.slice(0, question),
    pairs: withoutFragment
      .slice(question + 1)
      .split("&")
      .filter((pair) => pair !== ""),
  };
}

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    return text;
  }
}

function decodePair(pair: string): [string, string] {
  const equals = pair.indexOf("=");
  return equals === -1
    ? [decodeComponent(pair), ""]
    : [decodeComponent(pair.slice(0, equals)), decodeComponent(pair.slice(equals + 1))];
}

function isSslMode(value: string): value is LibpqSslMode {
  return (LIBPQ_SSL_MODES as readonly string[]).includes(value);
}

function unknownSslMode(value: string, source: string): PostgresUrlError {
  const hint =
    value === "no-verify"
      ? " (no-verify is node-pg's own value; libpq's require encrypts without verifying)"
      : "";
  return new PostgresUrlError(
    `unsupported sslmode "${value}" ${source}${hint}: use one of ${LIBPQ_SSL_MODES.join(", ")}`,
  );
}

/** The URL's TLS parameters with libpq's defaults applied; reads no file but `root.crt`'s presence. */
export function libpqTlsParameters(
  url: string,
  environment: LibpqEnvironment = {},
): LibpqTlsParameters {
  const env = environment.env ?? process.env;
  const params = new Map(splitQuery(url).pairs.map(decodePair));
  const ssl = params.get("ssl");
  if (ssl !== undefined) {
    throw new PostgresUrlError(
      `the database URL has ssl=${ssl}, node-pg's own parameter, which libpq (psql) rejects: use sslmode=require to encrypt without verifying, or sslmode=verify-full`,
    );
  }

  const urlMode = params.get("sslmode");
  const envMode = env.PGSSLMODE || undefined;
  if (urlMode !== undefined && !isSslMode(urlMode))
    throw unknownSslMode(urlMode, "in the database URL");
  if (urlMode === undefined && envMode !== undefined && !isSslMode(envMode)) {
    throw unknownSslMode(envMode, "in $PGSSLMODE");
  }
  const givenMode = (urlMode ?? envMode) as LibpqSslMode | undefined;

  let sslRootCert = params.get("sslrootcert") || env.PGSSLROOTCERT || undefined;
  if (sslRootCert === "system" && givenMode !== undefined && givenMode !== "verify-full") {
    // libpq ≥ 16: the system's CAs say nothing about who the server is without its host name.
    throw new PostgresUrlError(
      `sslmode=${givenMode} cannot be used with sslrootcert=system: use sslmode=verify-full`,
    );
  }
  const sslMode = givenMode ?? (sslRootCert === "system" ? "verify-full" : "prefer");
  if (sslRootCert === undefined) {
    const fallback = join(environment.homeDir ?? homedir(), ".postgresql", "root.crt");
    if (existsSync(fallback)) sslRootCert = fallback;
  }

  const negotiation = params.get("sslnegotiation");
  if (negotiation !== undefined && negotiation !== "postgres" && negotiation !== "direct") {
    throw new PostgresUrlError(
      `unsupported sslnegotiation "${negotiation}" in the database URL: use postgres or direct`,
    );
  }
  if (negotiation === "direct" && ["disable", "allow", "prefer"].includes(sslMode)) {
    throw new PostgresUrlError(
      `sslnegotiation=direct needs sslmode=require, verify-ca or verify-full (the URL has ${sslMode})`,
    );
  }

  // A socket directory as the host: `?host=/run/postgresql`, or percent-encoded in the authority.
  const authority = /^[a-z]+:\/\/([^/?#]*)/i.exec(url)?.[1] ?? "";
  const host =
    params.get("host") ?? decodeComponent(authority.slice(authority.lastIndexOf("@") + 1));
  return {
    sslMode,
    sslRootCert,
    sslCert: params.get("sslcert") || undefined,
    sslKey: params.get("sslkey") || undefined,
    sslNegotiation: negotiation,
    unixSocket: host.startsWith("/"),
  };
}

function readPemFile(path: string, parameter: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : String(error);
    throw new PostgresUrlError(`cannot read ${parameter} "${path}": ${reason}`);
  }
}

type TlsOptions = Exclude<ClientConfig["ssl"], boolean | undefined>;

function tlsOptions(parameters: LibpqTlsParameters): false | TlsOptions {
  const { sslMode, sslRootCert } = parameters;
  if (sslMode === "disable" || parameters.unixSocket) return false;

  const clientCertificate: TlsOptions = {};
  if (parameters.sslCert) clientCertificate.cert = readPemFile(parameters.sslCert, "sslcert");
  if (parameters.sslKey) clientCertificate.key = readPemFile(parameters.sslKey, "sslkey");
  const rootFile = sslRootCert !== undefined && sslRootCert !== "system" ? sslRootCert : undefined;
  const ca = () => (rootFile ? { ca: readPemFile(rootFile, "sslrootcert") } : {});
  const noHostCheck = { checkServerIdentity: () => undefined };

  switch (sslMode) {
    case "allow":
    case "prefer":
      // libpq verifies nothing in these modes, whatever root certificate it has.
      return { ...clientCertificate, rejectUnauthorized: false };
    case "require":
      // libpq: with a root certificate file, `require` verifies the chain like `verify-ca`.
      return rootFile
        ? { ...clientCertificate, ...ca(), ...noHostCheck, rejectUnauthorized: true }
        : { ...clientCertificate, rejectUnauthorized: false };
    case "verify-ca":
      if (sslRootCert === undefined) {
        throw new PostgresUrlError(
          "sslmode=verify-ca needs the CA that signed the server's certificate: add sslrootcert=<CA file> to the URL (or use sslmode=require to encrypt without verifying)",
        );
      }
      return { ...clientCertificate, ...ca(), ...noHostCheck, rejectUnauthorized: true };
    case "verify-full":
      return { ...clientCertificate, ...ca(), rejectUnauthorized: true };
    default: {
      const never: never = sslMode;
      throw new Error(`unhandled sslmode ${String(never)}`);
    }
  }
}

export interface PostgresClientSettings {
  readonly sslMode: LibpqSslMode;
  /**
   * `allow` and `prefer`: when the server has no TLS (or its pg_hba.conf admits this login only
   * unencrypted), libpq connects again without it. node-pg cannot fall back within one connect,
   * so `connectPostgresClient` makes the second attempt; a bare `config` only tries TLS.
   */
  readonly plaintextFallback: boolean;
  /** The first attempt: the URL without its TLS parameters, and `ssl` as libpq means it. */
  readonly config: ClientConfig;
}

/** The node-pg settings for a URL, with libpq's meaning of its TLS parameters. */
export function postgresClientSettings(
  url: string,
  environment: LibpqEnvironment = {},
): PostgresClientSettings {
  const parameters = libpqTlsParameters(url, environment);
  const { base, pairs } = splitQuery(url);
  const kept = pairs.filter((pair) => !TLS_PARAMETERS.has(decodePair(pair)[0]));
  const config: ClientConfig = {
    connectionString: kept.length === 0 ? base : `${base}?${kept.join("&")}`,
    ssl: tlsOptions(parameters),
  };
  if (parameters.sslNegotiation) config.sslnegotiation = parameters.sslNegotiation;
  return {
    sslMode: parameters.sslMode,
    plaintextFallback:
      !parameters.unixSocket && (parameters.sslMode === "allow" || parameters.sslMode === "prefer"),
    config,
  };
}

/**
 * A node-pg `ClientConfig` for the URL with libpq's meaning (see the module comment); `extra`
 * adds settings such as `application_name` (the URL's own still win, as in node-pg).
 * For `allow`/`prefer` (and a URL without sslmode) this tries TLS only: use
 * `connectPostgresClient` where the server may have no TLS.
 */
export function postgresClientConfig(
  url: string,
  extra: Omit<ClientConfig, "connectionString" | "ssl"> = {},
  environment?: LibpqEnvironment,
): ClientConfig {
  return { ...extra, ...postgresClientSettings(url, environment).config };
}

/** node-pg's answers when the server will not do TLS (for this login): libpq then retries. */
function serverRefusedTls(error: unknown): boolean {
  const e = (error ?? {}) as { code?: string; message?: string };
  return (
    e.message === "The server does not support SSL connections" ||
    (e.code === "28000" && /no pg_hba\.conf entry .*, SSL (encryption|on)$/.test(e.message ?? ""))
  );
}

const ignore = () => undefined;

/**
 * Connects a client to the URL with libpq's meaning, including `prefer`'s plaintext retry.
 * Connect failures are node's and node-pg's own errors (see `connectionError` for messages).
 * The client ignores 'error' events while idle, so a server going away does not crash the
 * process; a query in flight still rejects.
 */
export async function connectPostgresClient(
  url: string,
  extra: Omit<ClientConfig, "connectionString" | "ssl"> = {},
): Promise<Client> {
  const settings = postgresClientSettings(url);
  const attempt = async (config: ClientConfig): Promise<Client> => {
    const client = new Client({ ...extra, ...config });
    client.on("error", ignore);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(ignore);
      throw error;
    }
    return client;
  };
  try {
    return await attempt(settings.config);
  } catch (error) {
    if (!settings.plaintextFallback || !serverRefusedTls(error)) throw error;
    return attempt({ ...settings.config, ssl: false });
  }
}
