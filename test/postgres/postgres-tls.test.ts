/**
 * URL → node-pg settings with libpq's meaning of sslmode, for every mode, with libpq's defaults
 * (`$PGSSLMODE`, `$PGSSLROOTCERT`, `~/.postgresql/root.crt`) taken from a fixture environment.
 * The servers behind these settings are in tls.test.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "pg";
import {
  LIBPQ_SSL_MODES,
  PostgresUrlError,
  postgresClientConfig,
  postgresClientSettings,
  type LibpqEnvironment,
} from "../../src/migrate/postgres-tls";
import { connectionError } from "../../src/migrate/connection";

const BASE = "postgresql://synter_app:p%40ss@db.example.com:5432/synter";
const CA_PEM = "-----BEGIN CERTIFICATE-----\nfixture CA\n-----END CERTIFICATE-----\n";
const HOME_PEM = "-----BEGIN CERTIFICATE-----\nfixture home root.crt\n-----END CERTIFICATE-----\n";

let dir: string;
let caFile: string;
let emptyHome: LibpqEnvironment;
let homeWithRootCrt: LibpqEnvironment;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "synter-tls-unit-"));
  caFile = join(dir, "ca.crt");
  writeFileSync(caFile, CA_PEM);
  mkdirSync(join(dir, "home-empty"));
  mkdirSync(join(dir, "home-root", ".postgresql"), { recursive: true });
  writeFileSync(join(dir, "home-root", ".postgresql", "root.crt"), HOME_PEM);
  emptyHome = { env: {}, homeDir: join(dir, "home-empty") };
  homeWithRootCrt = { env: {}, homeDir: join(dir, "home-root") };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const settings = (query: string, environment: LibpqEnvironment = emptyHome) =>
  postgresClientSettings(`${BASE}${query}`, environment);

const noHostCheck = expect.any(Function);

describe("postgresClientSettings: every sslmode as libpq means it", () => {
  it("knows exactly libpq's six modes", () => {
    expect(LIBPQ_SSL_MODES).toEqual([
      "disable",
      "allow",
      "prefer",
      "require",
      "verify-ca",
      "verify-full",
    ]);
  });

  it("disable: no TLS, no retry", () => {
    expect(settings("?sslmode=disable")).toEqual({
      sslMode: "disable",
      plaintextFallback: false,
      config: { connectionString: BASE, ssl: false },
    });
  });

  it.each(["allow", "prefer"])(
    "%s: TLS without verification first, plaintext when the server has no TLS",
    (mode) => {
      expect(settings(`?sslmode=${mode}`)).toEqual({
        sslMode: mode,
        plaintextFallback: true,
        config: { connectionString: BASE, ssl: { rejectUnauthorized: false } },
      });
    },
  );

  it("prefer verifies nothing even with a root certificate (libpq verifies only from require up)", () => {
    expect(settings(`?sslmode=prefer&sslrootcert=${caFile}`).config.ssl).toEqual({
      rejectUnauthorized: false,
    });
  });

  it("no sslmode: libpq's default prefer", () => {
    expect(settings("")).toEqual(settings("?sslmode=prefer"));
    expect(settings("").sslMode).toBe("prefer");
  });

  it("no sslmode in the URL: $PGSSLMODE, as libpq reads it", () => {
    expect(settings("", { ...emptyHome, env: { PGSSLMODE: "require" } }).sslMode).toBe("require");
    // The URL's own sslmode wins over the environment.
    expect(
      settings("?sslmode=disable", { ...emptyHome, env: { PGSSLMODE: "require" } }).sslMode,
    ).toBe("disable");
  });

  it("require: TLS without verification (Railway's self-signed, Cloud SQL's private CA)", () => {
    expect(settings("?sslmode=require")).toEqual({
      sslMode: "require",
      plaintextFallback: false,
      config: { connectionString: BASE, ssl: { rejectUnauthorized: false } },
    });
  });

  it("require with sslrootcert: verifies the chain, not the host (libpq's rule, as verify-ca)", () => {
    const ssl = settings(`?sslmode=require&sslrootcert=${caFile}`).config.ssl;
    expect(ssl).toEqual({ ca: CA_PEM, checkServerIdentity: noHostCheck, rejectUnauthorized: true });
    expect((ssl as { checkServerIdentity: () => unknown }).checkServerIdentity()).toBeUndefined();
  });

  it("require with ~/.postgresql/root.crt present: verifies against it, as libpq does", () => {
    expect(settings("?sslmode=require", homeWithRootCrt).config.ssl).toEqual({
      ca: HOME_PEM,
      checkServerIdentity: noHostCheck,
      rejectUnauthorized: true,
    });
  });

  it("verify-ca: the chain against sslrootcert, no host name check", () => {
    expect(settings(`?sslmode=verify-ca&sslrootcert=${caFile}`)).toEqual({
      sslMode: "verify-ca",
      plaintextFallback: false,
      config: {
        connectionString: BASE,
        ssl: { ca: CA_PEM, checkServerIdentity: noHostCheck, rejectUnauthorized: true },
      },
    });
  });

  it("verify-ca: $PGSSLROOTCERT, then ~/.postgresql/root.crt", () => {
    const fromEnv = settings("?sslmode=verify-ca", {
      ...emptyHome,
      env: { PGSSLROOTCERT: caFile },
    });
    expect(fromEnv.config.ssl).toMatchObject({ ca: CA_PEM });
    expect(settings("?sslmode=verify-ca", homeWithRootCrt).config.ssl).toMatchObject({
      ca: HOME_PEM,
    });
  });

  it("verify-ca without any root certificate: a usage error saying what to add", () => {
    expect(() => settings("?sslmode=verify-ca")).toThrow(
      new PostgresUrlError(
        "sslmode=verify-ca needs the CA that signed the server's certificate: add sslrootcert=<CA file> to the URL (or use sslmode=require to encrypt without verifying)",
      ),
    );
  });

  it("verify-full: chain against sslrootcert, and the host name (node's default identity check)", () => {
    expect(settings(`?sslmode=verify-full&sslrootcert=${caFile}`)).toEqual({
      sslMode: "verify-full",
      plaintextFallback: false,
      config: { connectionString: BASE, ssl: { ca: CA_PEM, rejectUnauthorized: true } },
    });
  });

  it("verify-full without sslrootcert: ~/.postgresql/root.crt, else the system CAs", () => {
    expect(settings("?sslmode=verify-full", homeWithRootCrt).config.ssl).toEqual({
      ca: HOME_PEM,
      rejectUnauthorized: true,
    });
    expect(settings("?sslmode=verify-full").config.ssl).toEqual({ rejectUnauthorized: true });
  });

  it("sslrootcert=system: the system CAs with verify-full, and no weaker mode (libpq ≥ 16)", () => {
    expect(settings("?sslrootcert=system")).toEqual({
      sslMode: "verify-full",
      plaintextFallback: false,
      config: { connectionString: BASE, ssl: { rejectUnauthorized: true } },
    });
    expect(settings("?sslmode=verify-full&sslrootcert=system").config.ssl).toEqual({
      rejectUnauthorized: true,
    });
    expect(() => settings("?sslmode=require&sslrootcert=system")).toThrow(
      "sslmode=require cannot be used with sslrootcert=system: use sslmode=verify-full",
    );
  });

  it("unknown sslmode values: a usage error naming the value and the allowed ones", () => {
    expect(() => settings("?sslmode=strict")).toThrow(
      new PostgresUrlError(
        'unsupported sslmode "strict" in the database URL: use one of disable, allow, prefer, require, verify-ca, verify-full',
      ),
    );
    expect(() => settings("?sslmode=no-verify")).toThrow(
      "unsupported sslmode \"no-verify\" in the database URL (no-verify is node-pg's own value; libpq's require encrypts without verifying): use one of disable, allow, prefer, require, verify-ca, verify-full",
    );
    expect(() => settings("", { ...emptyHome, env: { PGSSLMODE: "yes" } })).toThrow(
      'unsupported sslmode "yes" in $PGSSLMODE: use one of disable, allow, prefer, require, verify-ca, verify-full',
    );
  });

  it("node-pg's ssl= parameter is refused: libpq rejects it, and it would override sslmode", () => {
    expect(() => settings("?ssl=true")).toThrow(
      "the database URL has ssl=true, node-pg's own parameter, which libpq (psql) rejects: use sslmode=require to encrypt without verifying, or sslmode=verify-full",
    );
  });

  it("a URL already carrying uselibpqcompat=true (the app's form) means the same", () => {
    expect(settings("?sslmode=require&uselibpqcompat=true")).toEqual(settings("?sslmode=require"));
    expect(settings("?uselibpqcompat=true&sslmode=verify-full")).toEqual(
      settings("?sslmode=verify-full"),
    );
  });

  it("keeps every other parameter for node-pg, byte for byte", () => {
    expect(
      settings(
        `?application_name=my%20app&sslmode=require&options=-c%20search_path%3Dx&sslrootcert=${caFile}`,
      ).config.connectionString,
    ).toBe(`${BASE}?application_name=my%20app&options=-c%20search_path%3Dx`);
  });

  it("a root certificate file that cannot be read: a usage error naming it", () => {
    expect(() => settings("?sslmode=verify-full&sslrootcert=/nonexistent/ca.crt")).toThrow(
      new PostgresUrlError('cannot read sslrootcert "/nonexistent/ca.crt": no such file'),
    );
  });

  it("a Unix socket: no TLS, as libpq ignores sslmode there", () => {
    expect(settings("?host=/run/postgresql&sslmode=require")).toEqual({
      sslMode: "require",
      plaintextFallback: false,
      config: { connectionString: `${BASE}?host=/run/postgresql`, ssl: false },
    });
    expect(
      postgresClientSettings("postgres://u@%2Frun%2Fpostgresql/synter?sslmode=prefer", emptyHome),
    ).toEqual({
      sslMode: "prefer",
      plaintextFallback: false,
      config: { connectionString: "postgres://u@%2Frun%2Fpostgresql/synter", ssl: false },
    });
  });

  it("node-pg keeps our ssl: its parser finds nothing in the URL to override it with", () => {
    const config = postgresClientConfig(
      `${BASE}?sslmode=require&uselibpqcompat=true`,
      { application_name: "t" },
      emptyHome,
    );
    const client = new Client(config) as Client & {
      connectionParameters: { ssl: unknown; host: string; password: string; user: string };
    };
    expect(client.connectionParameters.ssl).toEqual({ rejectUnauthorized: false });
    expect(client.connectionParameters.host).toBe("db.example.com");
    expect(client.connectionParameters.user).toBe("synter_app");
    expect(client.connectionParameters.password).toBe("p@ss");
    expect(config.application_name).toBe("t");
  });
});

describe("connectionError for URL problems", () => {
  it("keeps a PostgresUrlError as it is: a usage error", () => {
    const error = connectionError(new PostgresUrlError("bad"), `${BASE}?sslmode=x`);
    expect(error).toBeInstanceOf(PostgresUrlError);
    expect(error.message).toBe("bad");
    expect((error as PostgresUrlError).kind).toBe("usage");
  });
});
