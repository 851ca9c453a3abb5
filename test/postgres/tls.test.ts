/**
 * TLS against real Postgres 15 servers, with the certificates the hosted flavours serve:
 * Railway's self-signed one (server A, which like Railway's proxy admits TCP logins only over TLS:
 * `hostssl` in pg_hba.conf) and Cloud SQL's, signed by a private CA for a name that is not the IP
 * address we connect to (server B). Plus a server without TLS, for libpq's `prefer` fallback.
 *
 * Through the real CLI (`migrate up` in a child process), our shared config, the app's own way
 * (`new pg.Pool({ connectionString: POSTGRES_URL })`) and psql.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pg from "pg";
import { EXIT_CODES } from "../../src/cli/exit-codes";
import { postgresClientConfig } from "../../src/migrate/postgres-tls";
import { nodePgConnectionUrl, postgresConnectionUrl } from "../../infra/postgres/connection-url";
import type { PostgresSslMode } from "../../infra/hosting/types";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../support/embedded-postgres";
import { findBinary, REQUIRE_SERVERS_VARIABLE } from "../support/servers";
import { REAL_MIGRATIONS } from "./migration-fixtures";
import { createTlsFixtures, type TlsFixtures } from "./tls-certificates";

const CLI = join(__dirname, "..", "..", "bin", "synter-infra.js");
const APPLIED_ALL = `applied ${REAL_MIGRATIONS.length} migration(s): ${REAL_MIGRATIONS.map((f) => f.replace(/\.sql$/, "")).join(", ")}\n`;
const ENCRYPTED = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

let home: string;

/** The child's environment: no libpq settings of this machine, a HOME without ~/.postgresql. */
function isolatedEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  for (const name of Object.keys(env)) if (name.startsWith("PG")) delete env[name];
  delete env.DATABASE_URL;
  return env;
}

function run(command: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: isolatedEnv() });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const migrateUp = (url: string) => run("node", [CLI, "migrate", "up", "--database-url", url]);

/** A URL as the Pulumi program builds it (libpq form), as the superuser. */
function libpqUrl(server: EmbeddedPostgres, database: string, sslMode: PostgresSslMode): string {
  return postgresConnectionUrl({
    user: server.user,
    password: server.password,
    host: server.host,
    port: server.port,
    database,
    sslMode,
  });
}

async function sessionIsEncrypted(config: pg.ClientConfig): Promise<boolean> {
  const client = new pg.Client(config);
  await client.connect();
  try {
    const { rows } = await client.query<{ ssl: boolean }>(ENCRYPTED);
    expect(rows).toHaveLength(1);
    return rows[0]!.ssl;
  } finally {
    await client.end();
  }
}

/** Server A's pg_hba.conf: TCP logins only over TLS (the socket stays trusted for the helper). */
async function requireTls(server: EmbeddedPostgres): Promise<void> {
  const admin = new pg.Client({ connectionString: server.url() });
  await admin.connect();
  try {
    writeFileSync(
      join(server.dataDir, "pg_hba.conf"),
      "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n",
    );
    await admin.query("SELECT pg_reload_conf()");
  } finally {
    await admin.end();
  }
  // The postmaster reloads on a signal: wait until a plaintext login is refused.
  for (let attempt = 0; ; attempt++) {
    const probe = new pg.Client({ connectionString: server.url(), ssl: false });
    const refused = await probe.connect().then(
      () => false,
      () => true,
    );
    await probe.end().catch(() => undefined);
    if (refused) return;
    if (attempt > 50) throw new Error("pg_hba.conf reload did not take effect");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("Postgres URLs with libpq's sslmode meaning, against servers with TLS", () => {
  let certs: TlsFixtures;
  let selfSigned: EmbeddedPostgres; // A: Railway
  let privateCa: EmbeddedPostgres; // B: Cloud SQL
  let plain: EmbeddedPostgres; // no TLS at all

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), "synter-tls-home-"));
    certs = createTlsFixtures();
    const tls = (cert: { certFile: string; keyFile: string }) => ({
      settings: { ssl: "on", ssl_cert_file: cert.certFile, ssl_key_file: cert.keyFile },
    });
    [selfSigned, privateCa, plain] = await Promise.all([
      startEmbeddedPostgres(tls(certs.selfSigned)),
      startEmbeddedPostgres(tls(certs.privateCa)),
      startEmbeddedPostgres(),
    ]);
    for (const db of ["cli_require", "cli_default"]) await selfSigned.createDatabase(db);
    for (const db of ["cli_require", "cli_verify_ca"]) await privateCa.createDatabase(db);
    await plain.createDatabase("cli_default");
    await requireTls(selfSigned);
  });

  afterAll(async () => {
    await Promise.all([selfSigned?.stop(), privateCa?.stop(), plain?.stop()]);
    certs?.remove();
    rmSync(home, { recursive: true, force: true });
  });

  describe("synter-infra migrate (the real CLI)", () => {
    it("sslmode=require against a self-signed certificate (Railway): applies, encrypted", async () => {
      const url = libpqUrl(selfSigned, "cli_require", "require");
      const result = await migrateUp(url);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(APPLIED_ALL);
      // Progress only: no node-pg sslmode warning, no error.
      expect(result.stderr).not.toMatch(/warning|error/i);
      expect(await sessionIsEncrypted(postgresClientConfig(url))).toBe(true);
    });

    it("sslmode=require against a private CA's certificate for another name (Cloud SQL): applies, encrypted", async () => {
      const url = libpqUrl(privateCa, "cli_require", "require");
      const result = await migrateUp(url);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(APPLIED_ALL);
      expect(result.stderr).not.toMatch(/warning|error/i);
      expect(await sessionIsEncrypted(postgresClientConfig(url))).toBe(true);
    });

    it("sslmode=verify-full against the self-signed certificate: the auth code, one line naming it", async () => {
      const result = await migrateUp(libpqUrl(selfSigned, "cli_require", "verify-full"));
      expect(result).toEqual({
        code: EXIT_CODES.auth,
        stdout: "",
        stderr: `error: cannot verify the certificate of the database at 127.0.0.1:${selfSigned.port} (sslmode=verify-full): self-signed certificate; pass sslrootcert=<file of the CA that signed it> (for a self-signed certificate, the certificate itself), or use sslmode=require to encrypt without verifying\n`,
      });
    });

    it("sslmode=verify-full with the self-signed certificate as sslrootcert: the chain verifies, the host name does not", async () => {
      // The certificate is its own CA, so the chain verifies; the host name still does not.
      const url = `${libpqUrl(selfSigned, "cli_require", "verify-full")}&sslrootcert=${certs.selfSigned.certFile}`;
      const result = await migrateUp(url);
      expect(result).toEqual({
        code: EXIT_CODES.auth,
        stdout: "",
        stderr: `error: the certificate of the database at 127.0.0.1:${selfSigned.port} does not name 127.0.0.1 (sslmode=verify-full): it is for CN=localhost only (no subject alternative names); connect by a host name the certificate lists, or use sslmode=verify-ca to verify the CA without the host name\n`,
      });
    });

    it("sslmode=verify-ca with the CA as sslrootcert against Cloud SQL's certificate: applies", async () => {
      const url = `${libpqUrl(privateCa, "cli_verify_ca", "verify-ca")}&sslrootcert=${certs.privateCa.caFile}`;
      const result = await migrateUp(url);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(APPLIED_ALL);
      expect(await sessionIsEncrypted(postgresClientConfig(url))).toBe(true);
    });

    it("sslmode=verify-full with the CA against Cloud SQL's certificate: the auth code, naming the host mismatch", async () => {
      const url = `${libpqUrl(privateCa, "cli_verify_ca", "verify-full")}&sslrootcert=${certs.privateCa.caFile}`;
      expect(await migrateUp(url)).toEqual({
        code: EXIT_CODES.auth,
        stdout: "",
        stderr: `error: the certificate of the database at 127.0.0.1:${privateCa.port} does not name 127.0.0.1 (sslmode=verify-full): it is for CN=${certs.privateCa.commonName} only (no subject alternative names); connect by a host name the certificate lists, or use sslmode=verify-ca to verify the CA without the host name\n`,
      });
    });

    it("sslmode=verify-full without the CA against Cloud SQL's certificate: the auth code, naming the unknown issuer", async () => {
      expect(await migrateUp(libpqUrl(privateCa, "cli_verify_ca", "verify-full"))).toEqual({
        code: EXIT_CODES.auth,
        stdout: "",
        stderr: `error: cannot verify the certificate of the database at 127.0.0.1:${privateCa.port} (sslmode=verify-full): unable to verify the first certificate; pass sslrootcert=<file of the CA that signed it> (for a self-signed certificate, the certificate itself), or use sslmode=require to encrypt without verifying\n`,
      });
    });

    it("sslmode=require with the wrong CA as sslrootcert verifies (libpq's rule) and says how to stop", async () => {
      const url = `${libpqUrl(selfSigned, "cli_require", "require")}&sslrootcert=${certs.privateCa.caFile}`;
      expect(await migrateUp(url)).toEqual({
        code: EXIT_CODES.auth,
        stdout: "",
        stderr: `error: cannot verify the certificate of the database at 127.0.0.1:${selfSigned.port} (sslmode=require with sslrootcert): self-signed certificate; pass sslrootcert=<file of the CA that signed it> (for a self-signed certificate, the certificate itself), or drop sslrootcert to encrypt without verifying\n`,
      });
    });

    it("sslmode=disable against a server that admits only TLS logins: the auth code, one line", async () => {
      expect(await migrateUp(libpqUrl(selfSigned, "cli_require", "disable"))).toEqual({
        code: EXIT_CODES.auth,
        stdout: "",
        stderr: `error: the database at 127.0.0.1:${selfSigned.port} has no pg_hba.conf entry for user "postgres" on database "cli_require" from this host without encryption (sslmode=disable); use sslmode=require if the server accepts it encrypted\n`,
      });
    });

    it("sslmode=require against a server without TLS: the config code, one line", async () => {
      expect(await migrateUp(libpqUrl(plain, "cli_default", "require"))).toEqual({
        code: EXIT_CODES.config,
        stdout: "",
        stderr: `error: the database at 127.0.0.1:${plain.port} does not accept TLS connections (sslmode=require); turn ssl on in the server, or use sslmode=prefer or disable to connect unencrypted\n`,
      });
    });

    it("no sslmode (libpq's prefer): TLS where the server has it, plaintext where it has none", async () => {
      // Server A refuses plaintext logins, so applying there proves the first attempt used TLS.
      const withTls = selfSigned.url("cli_default");
      expect((await migrateUp(withTls)).stdout).toBe(APPLIED_ALL);
      const withoutTls = plain.url("cli_default");
      expect((await migrateUp(withoutTls)).stdout).toBe(APPLIED_ALL);
    });

    it("sslmode=verify-ca without sslrootcert, or an unknown sslmode: exit 2 (usage), one line", async () => {
      expect(await migrateUp(libpqUrl(privateCa, "cli_verify_ca", "verify-ca"))).toEqual({
        code: EXIT_CODES.usage,
        stdout: "",
        stderr:
          "error: sslmode=verify-ca needs the CA that signed the server's certificate: add sslrootcert=<CA file> to the URL (or use sslmode=require to encrypt without verifying)\n",
      });
      expect(await migrateUp(`${privateCa.url("cli_verify_ca")}?sslmode=no-verify`)).toEqual({
        code: EXIT_CODES.usage,
        stdout: "",
        stderr:
          "error: unsupported sslmode \"no-verify\" in the database URL (no-verify is node-pg's own value; libpq's require encrypts without verifying): use one of disable, allow, prefer, require, verify-ca, verify-full\n",
      });
    });
  });

  describe("the app's POSTGRES_URL (node-pg form), read by node-pg's default parser", () => {
    async function appQuery(connectionString: string): Promise<unknown[]> {
      // Exactly what the Synter app does with POSTGRES_URL.
      const pool = new pg.Pool({ connectionString });
      try {
        return (await pool.query(ENCRYPTED)).rows;
      } finally {
        await pool.end();
      }
    }

    it("connects, encrypted, to the self-signed server and to the private CA's", async () => {
      for (const server of [selfSigned, privateCa]) {
        const url = nodePgConnectionUrl(libpqUrl(server, "postgres", "require"));
        expect(url).toBe(
          `postgresql://postgres:${server.password}@127.0.0.1:${server.port}/postgres?sslmode=require&uselibpqcompat=true`,
        );
        expect(await appQuery(url)).toEqual([{ ssl: true }]);
      }
    });

    it("the libpq form would not: node-pg's parser reads its require as verify-full", async () => {
      // (pg 8 also prints its sslmode deprecation warning here.) When pg 9 gives require libpq's
      // meaning this fails, and the node-pg form can go.
      await expect(appQuery(libpqUrl(selfSigned, "postgres", "require"))).rejects.toMatchObject({
        code: "DEPTH_ZERO_SELF_SIGNED_CERT",
      });
      await expect(appQuery(libpqUrl(privateCa, "postgres", "require"))).rejects.toMatchObject({
        code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
      });
    });
  });

  const psql = findBinary("psql");
  const describePsql = psql ? describe : describe.skip;
  if (!psql) {
    const reason = "needs psql (apt-get install postgresql-client)";
    if (process.env[REQUIRE_SERVERS_VARIABLE] === "1") {
      throw new Error(`${REQUIRE_SERVERS_VARIABLE}=1 but a suite cannot run: ${reason}`);
    }
    process.stderr.write(`skipped: psql tests of the TLS suite ${reason}\n`);
  }

  describePsql("psql (libpq) reads the libpq form the stack outputs", () => {
    const select1 = (url: string) => run(psql!, ["-X", "-A", "-t", url, "-c", "select 1"]);

    it("sslmode=require against both certificates", async () => {
      for (const server of [selfSigned, privateCa]) {
        expect(await select1(libpqUrl(server, "postgres", "require"))).toEqual({
          code: 0,
          stdout: "1\n",
          stderr: "",
        });
      }
    });

    it("sslmode=verify-ca with the CA, against Cloud SQL's certificate", async () => {
      const url = `${libpqUrl(privateCa, "postgres", "verify-ca")}&sslrootcert=${certs.privateCa.caFile}`;
      expect(await select1(url)).toEqual({ code: 0, stdout: "1\n", stderr: "" });
    });

    it("rejects the node-pg form, which is why psql users take the libpq one", async () => {
      const result = await select1(
        nodePgConnectionUrl(libpqUrl(selfSigned, "postgres", "require")),
      );
      expect(result.code).toBe(2);
      expect(result.stderr).toBe('psql: error: invalid URI query parameter: "uselibpqcompat"\n');
    });
  });
});
