/**
 * `synter-infra local` (= `npm start`): the local platform. Stays up until Ctrl-C (SIGINT) or
 * SIGTERM, then stops Redis and Postgres and exits; `--once` brings everything up, verifies,
 * prints and stops again (CI smoke test).
 */
import { resolve } from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import { startLocalEnvironment } from "../../local/environment";
import { localSchemaMigrations } from "../../local/schema-migrations";

interface LocalCommandOptions {
  readonly port: number;
  readonly redisPort: number;
  readonly redis: boolean;
  readonly reset: boolean;
  readonly sampleData: boolean;
  readonly once: boolean;
  readonly projectDir: string;
  readonly verbose: boolean;
}

export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) {
    throw new InvalidArgumentError("a TCP port (1-65535)");
  }
  return port;
}

export function registerLocalCommands(program: Command): void {
  program
    .command("local")
    .description(
      "run the platform locally: embedded Postgres 15 with roles, migrations and sample data, " +
        "Redis when installed; writes .env.local",
    )
    .option("--port <port>", "Postgres port", parsePort, 5432)
    .option("--redis-port <port>", "Redis port", parsePort, 6379)
    .option("--no-redis", "do not start Redis")
    .option("--no-sample-data", "do not load the sample dataset")
    .option("--reset", "wipe .local/postgres, .local/redis and the local passwords first", false)
    .option("--once", "start, migrate, verify, print, then stop and exit (CI smoke test)", false)
    .option("--check", "same as --once")
    .option("--project-dir <dir>", "folder holding .local/ and .env.local", process.cwd())
    // `--verbose` is the program's own option (stack traces); here it also shows the server logs.
    .action(async (raw: Omit<LocalCommandOptions, "verbose"> & { check?: boolean }, command) => {
      const verbose = (command as Command).optsWithGlobals<{ verbose?: boolean }>().verbose;
      await runLocal({ ...raw, once: raw.once || raw.check === true, verbose: verbose === true });
    });
}

async function runLocal(options: LocalCommandOptions): Promise<void> {
  // Output piped into `head` may close early; shutting down cleanly matters more than printing.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
  });
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const environment = await startLocalEnvironment({
    projectDir: resolve(options.projectDir),
    postgresPort: options.port,
    redisPort: options.redisPort,
    redis: options.redis,
    reset: options.reset,
    sampleData: options.sampleData,
    migrations: localSchemaMigrations(),
    log,
    onServerLog: options.verbose ? (server, line) => log(`[${server}] ${line}`) : undefined,
  });
  if (options.once) {
    await environment.stop();
    log("stopped (--once)");
    return;
  }
  log("running: press Ctrl-C to stop");
  // Child processes alone need not keep the event loop alive; this does, until a signal.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const signal = await new Promise<NodeJS.Signals>((resolveSignal) => {
    process.once("SIGINT", resolveSignal);
    process.once("SIGTERM", resolveSignal);
  });
  clearInterval(keepAlive);
  log(`${signal}: stopping Redis and Postgres`);
  await environment.stop();
  log("stopped");
}
