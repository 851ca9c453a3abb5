/**
 * `synter-infra local` (= `npm start`): the local platform. Stays up until Ctrl-C (SIGINT),
 * SIGTERM or SIGHUP (its terminal closed), then stops Redis and Postgres and exits; the same
 * signals during the set-up stop what was started and exit 130. `--once` brings everything up,
 * verifies, prints and stops again (CI smoke test); `--stop` stops the servers an earlier run
 * left running.
 */
import { resolve } from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import { startLocalEnvironment, stopEarlierRun } from "../../local/environment";
import { localSchemaMigrations } from "../../local/schema-migrations";

const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

interface LocalCommandOptions {
  readonly port: number;
  readonly redisPort: number;
  readonly redis: boolean;
  readonly reset: boolean;
  readonly sampleData: boolean;
  readonly once: boolean;
  readonly stop: boolean;
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
    .option("--stop", "stop the servers an earlier run left running in .local/, then exit", false)
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
  let quiet = false;
  const log = (line: string) => {
    if (!quiet) process.stdout.write(`${line}\n`);
  };
  const projectDir = resolve(options.projectDir);
  if (options.stop) {
    await stopEarlierRun({
      projectDir,
      postgresPort: options.port,
      redisPort: options.redisPort,
      log,
    });
    return;
  }

  // From the first moment: a signal during the set-up must stop what it started, not kill us
  // with the servers left running.
  const interrupt = new AbortController();
  let stopRequested: (signal: NodeJS.Signals) => void = () => undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    // Once is enough. A repeat is no reason to stop waiting: under `npm start` one Ctrl-C may
    // arrive twice (from the terminal, and forwarded by npm). SIGKILL is safe: the reaper stops
    // the servers.
    if (interrupt.signal.aborted) return;
    // The terminal is gone: writing to it would fail (EIO).
    if (signal === "SIGHUP" && process.stdout.isTTY) quiet = true;
    interrupt.abort(signal);
    stopRequested(signal);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  try {
    const environment = await startLocalEnvironment({
      projectDir,
      postgresPort: options.port,
      redisPort: options.redisPort,
      redis: options.redis,
      reset: options.reset,
      sampleData: options.sampleData,
      migrations: localSchemaMigrations(),
      log,
      onServerLog: options.verbose ? (server, line) => log(`[${server}] ${line}`) : undefined,
      signal: interrupt.signal,
    });
    if (options.once) {
      await environment.stop();
      log("stopped (--once)");
      return;
    }
    // Child processes alone need not keep the event loop alive; this does, until a signal.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    const signal = await new Promise<NodeJS.Signals>((resolveSignal) => {
      // A signal may have come in the last step of the set-up, after its last check.
      if (interrupt.signal.aborted) resolveSignal(interrupt.signal.reason as NodeJS.Signals);
      else {
        log("running: press Ctrl-C to stop");
        stopRequested = resolveSignal;
      }
    });
    clearInterval(keepAlive);
    log(`${signal}: stopping Redis and Postgres`);
    await environment.stop();
    log("stopped");
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  }
}
