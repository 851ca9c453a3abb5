/**
 * The local environment's Redis, from the system's `redis-server` (Debian: `apt-get install
 * redis-server`), with the queue settings BullMQ needs (DESIGN §7): `noeviction` (an evicting
 * policy silently drops jobs under memory pressure) and AOF persistence. The password lives in a
 * config file readable by us only, never on the command line where `ps` would show it.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Redis from "ioredis";
import { abortable, guardGroup, spawnGroup, stopGroup } from "../rehearse/process-group";
import { findEarlierServer } from "./earlier-run";
import { LocalServerStartError } from "./local-errors";
import { findExecutable } from "./executables";

export const REDIS_INSTALL_HINT =
  "apt-get install redis-server (Debian/Ubuntu) or brew install redis (macOS)";

/** Redis flushes the AOF and exits on SIGTERM. */
const STOP_SIGNAL = "SIGTERM";
const STOP_TIMEOUT_MS = 10_000;
const START_TIMEOUT_MS = 15_000;

export interface LocalRedisOptions {
  readonly dataDir: string;
  readonly port: number;
  readonly password: string;
  readonly onLog?: (line: string) => void;
  /** Aborting stops the server while it starts (the start then rejects). */
  readonly signal?: AbortSignal;
}

export interface LocalRedis {
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  /** The settings the running server reports (CONFIG GET), to prove what the queues get. */
  readonly settings: RedisQueueSettings;
  stop(): Promise<void>;
}

export interface RedisQueueSettings {
  readonly maxmemoryPolicy: string;
  readonly appendonly: string;
}

/** A redis-server an earlier run left running on our data directory. */
export interface EarlierRedis {
  readonly pid: number;
  /** The port of the config file it was started with. */
  readonly port: number | undefined;
}

/**
 * The URL clients connect with. The user is named (`default`, the one `requirepass` sets):
 * redis-cli 7.0 rejects the empty-user form `redis://:<password>@`, which ioredis accepts.
 */
export function localRedisUrl(password: string, port: number): string {
  return `redis://default:${password}@127.0.0.1:${port}`;
}

/** The `redis-server` binary, or undefined when it is not installed. */
export function findRedisServer(): string | undefined {
  return findExecutable("redis-server");
}

/** The config file: everything that matters for the queues, in one reviewable place. */
export function renderRedisConfig(
  options: Pick<LocalRedisOptions, "dataDir" | "port" | "password">,
): string {
  return [
    "bind 127.0.0.1",
    `port ${options.port}`,
    `dir ${options.dataDir}`,
    "daemonize no",
    // Written at start, removed at a clean stop: how a later run finds a server this one left.
    `pidfile ${join(options.dataDir, "redis.pid")}`,
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
  const logFile = join(options.dataDir, "redis.log");
  const logOffset = existsSync(logFile) ? statSync(logFile).size : 0;
  const output = () => (existsSync(logFile) ? readFileSync(logFile, "utf8").slice(logOffset) : "");
  // Its own process group: Ctrl-C reaches only us, and we stop the server in order. Should this
  // process die without stopping it, the reaper sends it SIGTERM.
  const child = spawnGroup(binary, [configFile], {
    env: process.env,
    stopSignalOnExit: STOP_SIGNAL,
  });
  const stop = async () => {
    await child.stop(STOP_SIGNAL, STOP_TIMEOUT_MS);
  };
  try {
    await abortable(
      waitFor(() => {
        const log = output();
        if (child.hasExited()) {
          const reason = log.includes("Address already in use")
            ? `port ${options.port} is in use: pass --redis-port`
            : log.trim().split("\n").at(-1) || "it exited without a word";
          throw new LocalServerStartError(`redis-server did not start: ${reason}`);
        }
        return log.includes("Ready to accept connections");
      }, START_TIMEOUT_MS),
      options.signal,
    );
    const settings = await abortable(
      readQueueSettings(options.port, options.password),
      options.signal,
    );
    for (const line of output().split("\n")) if (line) options.onLog?.(line);
    let stopped: Promise<void> | undefined;
    return {
      host: "127.0.0.1",
      port: options.port,
      pid: child.pid ?? -1,
      settings: settings.queue,
      stop: () => (stopped ??= stop()),
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** What the server on `port` says of itself once authenticated: its pid and queue settings. */
async function readQueueSettings(
  port: number,
  password: string,
): Promise<{ readonly pid: number; readonly queue: RedisQueueSettings }> {
  const client = new Redis({
    host: "127.0.0.1",
    port,
    password,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 3000,
  });
  // Failures reach us through the commands; unheard, ioredis would print them to stderr.
  client.on("error", () => undefined);
  try {
    await client.connect();
    const [, maxmemoryPolicy] = (await client.config("GET", "maxmemory-policy")) as string[];
    const [, appendonly] = (await client.config("GET", "appendonly")) as string[];
    const pid = Number(/^process_id:(\d+)/m.exec(await client.info("server"))?.[1]);
    await client.quit();
    return { pid, queue: { maxmemoryPolicy, appendonly } };
  } finally {
    client.disconnect();
  }
}

/** The redis-server an earlier run left running on `dataDir` (or on `port` from `dataDir`). */
export function findEarlierRedis(dataDir: string, port: number): EarlierRedis | undefined {
  const pid = findEarlierServer(dataDir, "redis.pid", port);
  if (pid === undefined) return undefined;
  let config = "";
  try {
    // The file it was started with: this run has not written its own yet.
    config = readFileSync(join(dataDir, "redis.conf"), "utf8");
  } catch {
    // removed by hand
  }
  const configured = Number(/^port (\d+)$/m.exec(config)?.[1]);
  return { pid, port: Number.isInteger(configured) && configured > 0 ? configured : undefined };
}

/** Stops a redis-server an earlier run left behind (SIGTERM: it flushes the AOF; then SIGKILL). */
export function stopEarlierRedis(earlier: EarlierRedis): Promise<void> {
  return stopGroup(earlier.pid, STOP_SIGNAL, STOP_TIMEOUT_MS);
}

/**
 * Takes over the redis-server an earlier run left running, if it is the one on `port`, takes
 * this project's password and has the queue settings; otherwise says why not.
 */
export async function adoptEarlierRedis(
  earlier: EarlierRedis,
  options: Pick<LocalRedisOptions, "port" | "password">,
): Promise<LocalRedis | string> {
  const { pid } = earlier;
  if (earlier.port !== options.port) {
    return `it listens on port ${earlier.port ?? "unknown"}, not ${options.port}`;
  }
  let reported: Awaited<ReturnType<typeof readQueueSettings>>;
  try {
    reported = await readQueueSettings(options.port, options.password);
  } catch (error) {
    return `it does not answer with this project's password (${(error as Error).message})`;
  }
  if (reported.pid !== pid) return `port ${options.port} is served by pid ${reported.pid}`;
  if (reported.queue.maxmemoryPolicy !== "noeviction" || reported.queue.appendonly !== "yes") {
    return `it runs without the queue settings (maxmemory-policy ${reported.queue.maxmemoryPolicy}, appendonly ${reported.queue.appendonly})`;
  }
  const release = guardGroup(pid, STOP_SIGNAL);
  let stopped: Promise<void> | undefined;
  return {
    host: "127.0.0.1",
    port: options.port,
    pid,
    settings: reported.queue,
    stop: () => (stopped ??= stopEarlierRedis(earlier).finally(release)),
  };
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline)
      throw new LocalServerStartError(`redis-server was not ready after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
