/**
 * The local environment's Redis, from the system's `redis-server` (Debian: `apt-get install
 * redis-server`), with the queue settings BullMQ needs (DESIGN §7): `noeviction` (an evicting
 * policy silently drops jobs under memory pressure) and AOF persistence. The password lives in a
 * config file readable by us only, never on the command line where `ps` would show it.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Redis from "ioredis";
import { LocalServerStartError } from "./local-errors";
import { findExecutable } from "./executables";

export const REDIS_INSTALL_HINT =
  "apt-get install redis-server (Debian/Ubuntu) or brew install redis (macOS)";

export interface LocalRedisOptions {
  readonly dataDir: string;
  readonly port: number;
  readonly password: string;
  readonly onLog?: (line: string) => void;
}

export interface LocalRedis {
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  /** The settings the running server reports (CONFIG GET), to prove what the queues get. */
  readonly settings: { readonly maxmemoryPolicy: string; readonly appendonly: string };
  stop(): Promise<void>;
}

/** The `redis-server` binary, or undefined when it is not installed. */
/**
 * The URL clients connect with. The user is named (`default`, the one `requirepass` sets):
 * redis-cli 7.0 rejects the empty-user form `redis://:<password>@`, which ioredis accepts.
 */
export function localRedisUrl(password: string, port: number): string {
  return `redis://default:${password}@127.0.0.1:${port}`;
}

export function findRedisServer(): string | undefined {
  return findExecutable("redis-server");
}

/** The config file: everything that matters for the queues, in one reviewable place. */
export function renderRedisConfig(options: LocalRedisOptions): string {
  return [
    "bind 127.0.0.1",
    `port ${options.port}`,
    `dir ${options.dataDir}`,
    "daemonize no",
    // A log file, not a pipe: Redis' fork for the AOF rewrite would inherit and hold a pipe open.
    `logfile ${join(options.dataDir, "redis.log")}`,
    "maxmemory-policy noeviction",
    "appendonly yes",
    "appendfsync everysec",
    `requirepass ${options.password}`,
    "",
  ].join("\n");
}

export async function startLocalRedis(
  binary: string,
  options: LocalRedisOptions,
): Promise<LocalRedis> {
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const configFile = join(options.dataDir, "redis.conf");
  writeFileSync(configFile, renderRedisConfig(options), { mode: 0o600 });
  const child = spawn(binary, [configFile], {
    // Own process group: Ctrl-C reaches only us, and we stop the server in order.
    detached: true,
    stdio: "ignore",
  });
  const killOnExit = () => child.kill("SIGKILL");
  process.on("exit", killOnExit);
  const logFile = join(options.dataDir, "redis.log");
  const logOffset = existsSync(logFile) ? statSync(logFile).size : 0;
  const output = () => (existsSync(logFile) ? readFileSync(logFile, "utf8").slice(logOffset) : "");
  let exited = false;
  child.once("exit", () => (exited = true));

  const stopChild = () =>
    new Promise<void>((resolve) => {
      process.off("exit", killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      // SIGTERM: Redis flushes the AOF and exits.
      child.kill("SIGTERM");
    });

  let client: Redis | undefined;
  try {
    await waitFor(async () => {
      const log = output();
      if (exited) {
        const reason = log.includes("Address already in use")
          ? `port ${options.port} is in use: pass --redis-port`
          : log.trim();
        throw new LocalServerStartError(`redis-server did not start: ${reason}`);
      }
      return log.includes("Ready to accept connections");
    }, 15_000);
    client = new Redis({
      host: "127.0.0.1",
      port: options.port,
      password: options.password,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    await client.connect();
    const [, maxmemoryPolicy] = (await client.config("GET", "maxmemory-policy")) as string[];
    const [, appendonly] = (await client.config("GET", "appendonly")) as string[];
    await client.quit();
    for (const line of output().split("\n")) if (line) options.onLog?.(line);
    let stopped: Promise<void> | undefined;
    return {
      host: "127.0.0.1",
      port: options.port,
      pid: child.pid ?? -1,
      settings: { maxmemoryPolicy, appendonly },
      stop: () => (stopped ??= stopChild()),
    };
  } catch (error) {
    client?.disconnect();
    await stopChild();
    throw error;
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new LocalServerStartError(`redis-server was not ready after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
