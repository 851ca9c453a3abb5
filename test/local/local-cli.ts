/**
 * `synter-infra local` as a user runs it, for the tests of test/local: the real CLI in a child
 * process, in a temp project folder, on free ports; and what a test needs to prove that no server
 * of a run outlives it (the servers' pids from their pid files, a /proc check of their own).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "../support/embedded-postgres";
import { REQUIRE_SERVERS_VARIABLE } from "../support/servers";
import { findRedisServer } from "../../src/local/redis-server";

export const repo = resolve(__dirname, "..", "..");
export const cli = join(repo, "bin", "synter-infra.js");

/** Redis-needing tests run where redis-server is installed, and must where CI says so. */
export const redisInstalled = findRedisServer() !== undefined;
if (!redisInstalled && process.env[REQUIRE_SERVERS_VARIABLE] === "1") {
  throw new Error(`${REQUIRE_SERVERS_VARIABLE}=1 but redis-server is not installed`);
}
export const withRedis = redisInstalled ? it : it.skip;

export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `synter-infra local <args>` to completion. */
export function runLocal(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Run {
  const result = spawnSync(process.execPath, [cli, "local", ...args], {
    cwd: repo,
    env,
    encoding: "utf8",
    timeout: 110_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A temp project folder (searchable, as a clone is) and free ports for one test. */
export interface LocalProject {
  readonly dir: string;
  readonly pgPort: number;
  readonly redisPort: number;
  /** `--project-dir … --port … --redis-port …` */
  readonly args: string[];
}

export async function newLocalProject(): Promise<LocalProject> {
  const dir = mkdtempSync(join(tmpdir(), "synter-local-test-"));
  // mkdtemp makes 0700: as root, Postgres runs as `postgres` and must reach .local/postgres.
  chmodSync(dir, 0o755);
  const pgPort = await freePort();
  const redisPort = await freePort();
  const args = ["--project-dir", dir, "--port", String(pgPort), "--redis-port", String(redisPort)];
  return { dir, pgPort, redisPort, args };
}

/** A run that stays up: its output so far, a wait for a line of it, its exit. */
export interface LiveRun {
  readonly child: ChildProcessWithoutNullStreams;
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout has a line equal to `line` (or starting so, with `prefix`). */
  waitForLine(line: string, options?: { readonly prefix?: boolean }): Promise<void>;
  readonly exited: Promise<number | null>;
}

/** CLI runs of the current test not yet seen to exit: killed after the test, so a failed one leaks none. */
const liveRuns = new Set<ChildProcessWithoutNullStreams>();

export function startLocal(args: readonly string[], env: NodeJS.ProcessEnv = process.env): LiveRun {
  const child = spawn(process.execPath, [cli, "local", ...args], { cwd: repo, env });
  liveRuns.add(child);
  child.once("exit", () => liveRuns.delete(child));
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const exited = new Promise<number | null>((resolveExit) => child.once("exit", resolveExit));
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  return {
    child,
    pid: child.pid!,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async waitForLine(line, options) {
      const has = () =>
        stdout.split("\n").some((l) => (options?.prefix ? l.startsWith(line) : l === line));
      await until(has, 100_000, () => exitCode !== undefined);
      if (!has()) throw new Error(`no line "${line}" (exit ${exitCode}): ${stdout}${stderr}`);
    },
  };
}

/** Polls `check` every 20 ms until true, `giveUp` is true, or `timeoutMs` passed. */
export async function until(
  check: () => boolean,
  timeoutMs: number,
  giveUp: () => boolean = () => false,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && !giveUp() && Date.now() < deadline) {
    await new Promise((resolveWait) => setTimeout(resolveWait, 20));
  }
}

/** Whether `pid` runs (a zombie, dead but not yet reaped by pid 1, does not). */
export function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX] /s.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** Of `pids`, those still running. */
export function stillRunning(pids: readonly number[]): number[] {
  return pids.filter(isRunning);
}

function pidOf(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  return Number(readFileSync(file, "utf8").split("\n")[0]);
}

/** The pids the servers' own pid files name: the postmaster and redis-server. */
export function serverPids(dir: string): { postgres?: number; redis?: number } {
  return {
    postgres: pidOf(join(dir, ".local", "postgres", "postmaster.pid")),
    redis: pidOf(join(dir, ".local", "redis", "redis.pid")),
  };
}

/** Processes (pid and command line) whose command line mentions `marker`, other than this one. */
export function processesMentioning(marker: string): Array<{ pid: number; cmdline: string }> {
  const found: Array<{ pid: number; cmdline: string }> = [];
  for (const entry of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    const pid = Number(entry);
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      if (cmdline.includes(marker) && pid !== process.pid && isRunning(pid)) {
        found.push({ pid, cmdline });
      }
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/**
 * What must be gone after every test: any process of the project (its data dir on the command
 * line) or on its Redis port (redis-server's title). Killed, so that a failing test leaks nothing,
 * and returned, so that the test fails.
 */
export function killLeftovers(project: LocalProject): string[] {
  const left = [
    ...processesMentioning(join(project.dir, ".local")),
    ...processesMentioning(`127.0.0.1:${project.redisPort}`),
  ];
  for (const { pid } of left) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
  return left.map(({ pid, cmdline }) => `${pid}: ${cmdline}`);
}

/** `.env.local` as a record. */
export function envFile(dir: string): Record<string, string> {
  const entries = readFileSync(join(dir, ".env.local"), "utf8")
    .split("\n")
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]);
  return Object.fromEntries(entries);
}

/** The reaper of a run: the detached shell child of its node process (src/rehearse/process-group). */
export function reaperOf(pid: number): number | undefined {
  for (const entry of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const parent = Number(/^\d+ \(.*\) \S (\d+) /s.exec(stat)?.[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (parent === pid && cmdline.includes("while read -r op pid sig")) return Number(entry);
    } catch {
      // exited meanwhile
    }
  }
  return undefined;
}

/**
 * A project whose cluster is made, migrated and stopped: tests that do not test the first start
 * copy its `.local/` (initdb alone takes seconds) with `copyLocalData`.
 */
export async function createTemplate(): Promise<LocalProject> {
  const template = await newLocalProject();
  const made = runLocal(["--once", "--no-redis", "--no-sample-data", ...template.args]);
  if (made.status !== 0)
    throw new Error(`the template did not start: ${made.stdout}${made.stderr}`);
  return template;
}

/** Copies `.local/` (a stopped cluster and its passwords) keeping owners and modes. */
export function copyLocalData(from: LocalProject, to: LocalProject): void {
  const copy = spawnSync("cp", ["-a", join(from.dir, ".local"), join(to.dir, ".local")], {
    encoding: "utf8",
  });
  if (copy.status !== 0) throw new Error(`cp -a failed: ${copy.stderr}`);
}

/**
 * Servers left running as after a crash that took the reaper too: a run is started, then its
 * reaper and its node process are SIGKILLed. Returns the servers' pids (both running).
 */
export async function leaveServersBehind(
  args: readonly string[],
  dir: string,
): Promise<{ readonly postgres: number; readonly redis: number }> {
  const run = startLocal(["--no-sample-data", ...args]);
  await run.waitForLine("running: press Ctrl-C to stop");
  const reaper = reaperOf(run.pid);
  if (reaper === undefined) throw new Error("the run has no reaper");
  process.kill(reaper, "SIGKILL");
  await until(() => !isRunning(reaper), 5000);
  run.child.kill("SIGKILL");
  await run.exited;
  const { postgres, redis } = serverPids(dir);
  if (postgres === undefined || redis === undefined || stillRunning([postgres, redis]).length < 2) {
    throw new Error(`the servers did not stay: ${JSON.stringify({ postgres, redis })}`);
  }
  return { postgres, redis };
}

/**
 * The hooks of a suite of CLI runs: a fresh project per test (removed after it, failing the test
 * if any of its processes is left) and, with `template`, one made cluster to copy from.
 */
export function useLocalProjects(options: { readonly template?: boolean } = {}): {
  readonly project: () => LocalProject;
  readonly template: () => LocalProject;
} {
  let template: LocalProject | undefined;
  let project: LocalProject | undefined;
  if (options.template) {
    beforeAll(async () => {
      template = await createTemplate();
    });
    afterAll(() => template && rmSync(template.dir, { recursive: true, force: true }));
  }
  beforeEach(async () => {
    project = await newLocalProject();
  });
  afterEach(() => {
    // A test that failed before its run ended: stop the CLI first, so it starts nothing more.
    for (const child of liveRuns) child.kill("SIGKILL");
    liveRuns.clear();
    expect(killLeftovers(project!)).toEqual([]);
    rmSync(project!.dir, { recursive: true, force: true });
  });
  return { project: () => project!, template: () => template! };
}
