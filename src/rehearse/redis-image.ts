/**
 * The `redis:7` image played with Debian's redis-server. The instance's start command runs
 * exactly as given (split into words as Railway does, see start-command.ts), with the service's
 * variables in its environment; `redis-server` on its PATH is a wrapper that runs the real one
 * with the same arguments, except that an argument naming the volume's mount path (or `/data`,
 * the image's WORKDIR) or a path under it names the local directory standing for it, and that
 * `--port <free port> --bind 127.0.0.1` come last (redis takes the last value of an option).
 * No start command: `redis-server` with the image's defaults, in `/data`.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { REDIS_PORT } from "../../infra/railway/service-defaults";
import {
  abortError,
  findExecutable,
  freePort,
  portIsFree,
  spawnGroup,
  waitForTcp,
} from "./process-group";
import { ServiceStartError, type ImageStartContext, type StartedServer } from "./service-runtime";
import { splitStartCommand } from "./start-command";

/** The image's WORKDIR, where redis writes its files by default. */
const IMAGE_WORKDIR = "/data";

export const REDIS_MISSING_MESSAGE =
  "redis-server is not installed on this machine, so the rehearsal cannot run the redis:7 image: apt-get install redis-server";

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function wrapperScript(
  redisServer: string,
  rewrites: ReadonlyArray<readonly [string, string]>,
  argsFile: string,
  port: number,
): string {
  const variables = rewrites.map(
    ([from, to], i) => `from${i}=${shellQuote(from)}; to${i}=${shellQuote(to)}`,
  );
  const patterns = rewrites.flatMap((_, i) => [
    `    "$from${i}") arg=$to${i} ;;`,
    `    "$from${i}"/*) arg=$to${i}\${arg#"$from${i}"} ;;`,
  ]);
  return [
    "#!/bin/sh",
    "# The rehearsal's redis-server: Debian's, with container paths mapped to local directories.",
    ...variables,
    "for arg do",
    "  shift",
    '  case "$arg" in',
    ...patterns,
    "  esac",
    '  set -- "$@" "$arg"',
    "done",
    `printf '%s\\n' "$@" > ${shellQuote(argsFile)}`,
    `exec ${shellQuote(redisServer)} "$@" --port ${port} --bind 127.0.0.1`,
    "",
  ].join("\n");
}

/** The port redis would listen on in the container: the last `--port`, else 6379. */
function containerPortOf(argsFile: string): number {
  if (!existsSync(argsFile)) return REDIS_PORT;
  const args = readFileSync(argsFile, "utf8").split("\n");
  let port = REDIS_PORT;
  for (let i = 0; i < args.length - 1; i++) {
    if (args[i] === "--port" && /^\d+$/.test(args[i + 1])) port = Number(args[i + 1]);
  }
  return port;
}

/** Debian's redis-server; throws (a FAILED deployment) naming the package when it is missing. */
export function redisServerBinary(): string {
  const binary = findExecutable("redis-server");
  if (!binary) throw new ServiceStartError("FAILED", REDIS_MISSING_MESSAGE);
  return binary;
}

export async function startRedisImage(context: ImageStartContext): Promise<StartedServer> {
  const redisServer = redisServerBinary();
  const { launch } = context;
  let argv: string[];
  try {
    argv = launch.startCommand ? splitStartCommand(launch.startCommand) : ["redis-server"];
  } catch (error) {
    throw new ServiceStartError("CRASHED", (error as Error).message);
  }
  if (argv.length === 0) throw new ServiceStartError("CRASHED", "the start command is empty");

  const binDir = join(context.scratchDir, "bin");
  mkdirSync(binDir, { recursive: true });
  const wrapper = join(binDir, "redis-server");
  // The image has redis-server in /usr/local/bin; both spellings reach the wrapper.
  if (basename(argv[0]) === "redis-server") argv[0] = wrapper;
  const workdir = context.mapPath(IMAGE_WORKDIR);
  mkdirSync(workdir, { recursive: true });
  const rewrites = [...new Set([launch.volume?.mountPath, IMAGE_WORKDIR])]
    .filter((path): path is string => path !== undefined)
    .map((path) => path.replace(/\/+$/, ""))
    .sort((a, b) => b.length - a.length)
    .map((path) => [path, context.mapPath(path)] as const);
  for (const [, local] of rewrites) mkdirSync(local, { recursive: true });
  const argsFile = join(context.scratchDir, "redis-server.args");
  const env = {
    ...context.env,
    PATH: `${binDir}:${context.env.PATH ?? process.env.PATH ?? ""}`,
    HOME: workdir,
  };

  for (let attempt = 1; ; attempt++) {
    const port =
      attempt === 1 && context.preferredPort && (await portIsFree(context.preferredPort))
        ? context.preferredPort
        : await freePort();
    writeFileSync(wrapper, wrapperScript(redisServer, rewrites, argsFile, port));
    chmodSync(wrapper, 0o755);
    const child = spawnGroup(argv[0], argv.slice(1), {
      env,
      cwd: workdir,
      signal: context.signal,
      onLine: context.onLine,
    });
    try {
      await waitForTcp("127.0.0.1", port, child, context.startTimeoutMs, context.signal);
      return {
        port,
        containerPort: containerPortOf(argsFile),
        process: child,
        // redis saves and fsyncs its AOF on SIGTERM (docker's default stop signal).
        stop: (timeoutMs) => child.stop("SIGTERM", timeoutMs),
      };
    } catch (error) {
      await child.stop("SIGKILL", 1000);
      if (context.signal.aborted) throw abortError(context.signal);
      if (attempt < 3 && /Address already in use/.test(child.log())) continue;
      const exit = await child.exited;
      const reason = exit.error
        ? `could not run ${launch.startCommand ?? "redis-server"}: ${exit.error.message}`
        : (error as Error).message;
      throw new ServiceStartError("CRASHED", `Redis did not start: ${reason}`, child.log());
    }
  }
}
