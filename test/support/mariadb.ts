/**
 * A throwaway MariaDB server (standing in for SingleStore: same wire protocol) for tests and the
 * benchmark: `mariadb-install-db` into a temp dir, `mariadbd` on a free port and a private socket,
 * and cleanup (server stopped, dir removed) even when a suite fails. As root the server runs with
 * `--user=root`, which mariadbd accepts only when asked explicitly.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { findBinary } from "./servers";

export interface MariaDb {
  readonly port: number;
  readonly socket: string;
  /** `mysql://root@127.0.0.1:<port>/<database>` (root has no password on the throwaway server). */
  url(database: string): string;
  /** SIGKILL, as a crashing server dies; the data stays for `restart`. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and data (after `kill`). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === "object"
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

export async function startMariaDb(): Promise<MariaDb> {
  const mariadbd = findBinary("mariadbd");
  const installDb = findBinary("mariadb-install-db");
  if (!mariadbd || !installDb) throw new Error("mariadb-server is not installed");
  const workDir = mkdtempSync(join(tmpdir(), "synter-mariadb-"));
  const dataDir = join(workDir, "data");
  const socket = join(workDir, "mariadb.sock");
  const asUser = userInfo().uid === 0 ? ["--user=root"] : [];
  const install = spawnSync(
    installDb,
    [
      "--no-defaults",
      `--datadir=${dataDir}`,
      "--auth-root-authentication-method=normal",
      "--skip-test-db",
      ...asUser,
    ],
    { encoding: "utf8" },
  );
  if (install.status !== 0) {
    rmSync(workDir, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed: ${install.stderr || install.stdout}`);
  }
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on("exit", () => {
      for (const child of running) child.kill("SIGKILL");
    });
  }
  /** The server on `port`; `log` is its output when it did not start, else empty. */
  const launch = async (port: number): Promise<{ child: ChildProcess; log: string }> => {
    const child = spawn(
      mariadbd,
      [
        "--no-defaults",
        `--datadir=${dataDir}`,
        `--socket=${socket}`,
        `--port=${port}`,
        "--bind-address=127.0.0.1",
        `--pid-file=${join(workDir, "mariadb.pid")}`,
        "--skip-log-bin",
        "--innodb-flush-log-at-trx-commit=0",
        "--innodb-buffer-pool-size=256M",
        "--max-allowed-packet=256M",
        "--character-set-server=utf8mb4",
        "--collation-server=utf8mb4_unicode_ci",
        "--default-time-zone=+00:00",
        ...asUser,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let log = "";
    const ready = await new Promise<boolean>((resolve) => {
      const onData = (chunk: Buffer) => {
        log += chunk.toString("utf8");
        if (log.includes("ready for connections")) {
          child.stderr?.off("data", onData);
          child.stderr?.resume();
          resolve(true);
        }
      };
      child.stderr?.on("data", onData);
      child.once("exit", () => resolve(false));
    });
    if (!ready) return { child, log };
    running.add(child);
    return { child, log: "" };
  };
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const launched = await launch(port);
    if (launched.log) {
      if (attempt < 3 && launched.log.includes("Address already in use")) continue;
      rmSync(workDir, { recursive: true, force: true });
      throw new Error(`mariadbd did not start: ${launched.log.slice(-2000)}`);
    }
    let child = launched.child;
    let stopped: Promise<void> | undefined;
    return {
      port,
      socket,
      url: (database) => `mysql://root@127.0.0.1:${port}/${encodeURIComponent(database)}`,
      kill() {
        return new Promise<void>((resolve) => {
          running.delete(child);
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGKILL");
        });
      },
      async restart() {
        const again = await launch(port);
        if (again.log) throw new Error(`mariadbd did not restart: ${again.log.slice(-2000)}`);
        child = again.child;
      },
      stop() {
        stopped ??= new Promise<void>((resolve) => {
          const finish = () => {
            running.delete(child);
            rmSync(workDir, { recursive: true, force: true });
            resolve();
          };
          if (child.exitCode !== null || child.signalCode !== null) return finish();
          child.once("exit", finish);
          child.kill("SIGTERM");
        });
        return stopped;
      },
    };
  }
}
