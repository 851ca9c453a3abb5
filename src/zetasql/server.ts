/**
 * The ZetaSQL local service (the analyzer BigQuery is built on), shipped as a binary in
 * `@fivetrandevelopers/zetasql`. `startZetaSqlServer()` runs it on a free port, waits until it
 * answers, and guarantees it stops: on `stop()`, on process exit (also after an uncaught
 * exception) and on SIGINT/SIGTERM. The package's own `runServer` keeps one global child and
 * never resolves, so it is not used.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { ToolError } from "../errors/tool-error";
import { createZetaSqlClient, type ZetaSqlClient } from "./client";

/**
 * The service could not be started: its binary is missing (`config`: the installation) or it
 * exited or never answered (`unreachable`).
 */
export class ZetaSqlServiceError extends ToolError {
  constructor(kind: "config" | "unreachable", message: string) {
    super(kind, message);
  }
}

export interface ZetaSqlServer {
  readonly port: number;
  /** Process id of the service (for diagnostics and tests). */
  readonly pid: number;
  readonly client: ZetaSqlClient;
  /** Stops the service (idempotent). */
  stop(): Promise<void>;
}

/** Path of the service binary for this platform inside the npm package. */
export function zetaSqlBinaryPath(): string {
  const packageDir = dirname(require.resolve("@fivetrandevelopers/zetasql/package.json"));
  const arm = process.arch.startsWith("arm") ? "_arm" : "";
  const extension = process.platform === "darwin" ? "" : ".so";
  const binary = join(packageDir, "lib", "zetasql", `remote_server${arm}${extension}`);
  if (!existsSync(binary)) {
    throw new ZetaSqlServiceError(
      "config",
      `ZetaSQL service binary not found at ${binary} (platform ${process.platform}): reinstall @fivetrandevelopers/zetasql (npm ci)`,
    );
  }
  return binary;
}

/** A TCP port that was free a moment ago (the OS picks it). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

const running = new Set<ChildProcess>();
let exitHooksInstalled = false;

function killAllSync(): void {
  for (const child of running) child.kill("SIGKILL");
  running.clear();
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  // 'exit' also runs after an uncaught exception; only synchronous work is possible there.
  process.on("exit", killAllSync);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const onSignal = (): void => {
      killAllSync();
      process.removeListener(signal, onSignal);
      // Nobody else handles the signal: re-raise it for the default behaviour (terminate).
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/**
 * Runs the service on `port` and resolves once it answers requests. Rejects (and kills the
 * child) if the binary exits early or does not answer within `timeoutMs`.
 */
export async function runServer(port: number, timeoutMs = 30_000): Promise<ZetaSqlServer> {
  installExitHooks();
  const child = spawn(zetaSqlBinaryPath(), ["localhost", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  running.add(child);
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  let exited: string | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      running.delete(child);
      exited = `exited with ${signal ?? `code ${code}`}`;
      resolve();
    });
    child.once("error", (error) => {
      running.delete(child);
      exited = `failed to start: ${error.message}`;
      resolve();
    });
  });
  const client = createZetaSqlClient(`localhost:${port}`);
  const stop = async (): Promise<void> => {
    client.close();
    if (exited === undefined) {
      child.kill("SIGKILL");
      await exitedPromise;
    }
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited !== undefined) {
      client.close();
      throw new ZetaSqlServiceError(
        "unreachable",
        `ZetaSQL service ${exited}${stderr ? `: ${stderr.trim()}` : ""}`,
      );
    }
    if (await client.ping()) break;
    if (Date.now() > deadline) {
      await stop();
      throw new ZetaSqlServiceError(
        "unreachable",
        `ZetaSQL service did not answer on port ${port} within ${timeoutMs} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { port, pid: child.pid ?? -1, client, stop };
}

/** Runs the service on a free port; retries once with another port if the first was taken. */
export async function startZetaSqlServer(): Promise<ZetaSqlServer> {
  try {
    return await runServer(await findFreePort());
  } catch (error) {
    if (error instanceof Error && /exited/.test(error.message)) {
      return runServer(await findFreePort());
    }
    throw error;
  }
}
