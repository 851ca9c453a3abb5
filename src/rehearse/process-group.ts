/**
 * Child processes for the rehearsal runtime and the local environment: each server runs in its own
 * process group (so a stop reaches every process it forked: Postgres backends, a shell around
 * redis-server), its output is kept (the tail goes into a crashed deployment's error), and whatever
 * is still running when this process ends is stopped, so a failed run leaves no servers behind: on
 * a normal exit by an exit hook; when this process is killed (SIGKILL, a timeout's SIGTERM) by a
 * reaper, a small detached shell that reads the live groups from a pipe and stops them when the
 * pipe closes. A group may name a graceful stop signal for that (Postgres: SIGINT, Redis: SIGTERM):
 * the reaper sends it, waits up to 5 s, then SIGKILLs what is left; without one it is SIGKILL.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { delimiter, join } from "node:path";

/** Bytes of output kept per process: enough for a start-up failure, bounded for a long run. */
const LOG_LIMIT = 64 * 1024;

export interface SpawnGroupOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly uid?: number;
  readonly gid?: number;
  /** Each line of stdout and stderr. */
  readonly onLine?: (line: string) => void;
  /** Aborting kills the whole group (SIGKILL). */
  readonly signal?: AbortSignal;
  /**
   * What the group gets when this process ends (or dies) without having stopped it; SIGKILL
   * follows after 5 s. Default: SIGKILL at once.
   */
  readonly stopSignalOnExit?: NodeJS.Signals;
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (ENOENT, EACCES). */
  readonly error?: Error;
}

export interface GroupProcess {
  readonly pid: number | undefined;
  /** The last 64 KiB of stdout and stderr, interleaved as received. */
  log(): string;
  readonly exited: Promise<ExitStatus>;
  hasExited(): boolean;
  /** Resolves when a line of output matches (rejects when the process exits first). */
  waitForLine(pattern: RegExp): Promise<void>;
  /** Sends `signal` to the group; SIGKILL after `timeoutMs`. Resolves once the process exited. */
  stop(signal: NodeJS.Signals, timeoutMs: number): Promise<ExitStatus>;
}

/** Live groups (leader pid) and the signal each gets when this process ends. */
const liveGroups = new Map<number, NodeJS.Signals>();
let exitHookInstalled = false;
let reaper: ChildProcess | undefined;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Only synchronous work is possible here; the reaper (whose pipe closes now) does the SIGKILL.
  process.on("exit", () => {
    for (const [pid, signal] of liveGroups) killGroup(pid, signal);
  });
}

const REAPER_GRACE_TENTHS = 50;

const REAPER_SCRIPT = [
  'groups=" "',
  "while read -r op pid sig; do",
  '  case "$op" in',
  '    add) groups="$groups$pid:${sig:-KILL} " ;;',
  "    del)",
  '      kept=" "',
  '      for group in $groups; do [ "${group%%:*}" = "$pid" ] || kept="$kept$group "; done',
  "      groups=$kept ;;",
  "  esac",
  "done",
  'for group in $groups; do kill "-${group#*:}" "-${group%%:*}" 2>/dev/null; done',
  `tries=${REAPER_GRACE_TENTHS}`,
  'while [ "$tries" -gt 0 ]; do',
  "  alive=",
  '  for group in $groups; do kill -0 "-${group%%:*}" 2>/dev/null && alive=1; done',
  '  [ -z "$alive" ] && break',
  "  sleep 0.1",
  "  tries=$((tries - 1))",
  "done",
  'for group in $groups; do kill -9 "-${group%%:*}" 2>/dev/null; done',
].join("\n");

/** Tells the reaper about a group (`add`, with its stop signal) or that it is gone (`del`). */
function tellReaper(op: "add" | "del", pid: number, signal: NodeJS.Signals = "SIGKILL"): void {
  if (!reaper) {
    reaper = spawn("/bin/sh", ["-c", REAPER_SCRIPT], {
      // `sleep` must be found whatever PATH this process was given.
      env: {
        ...process.env,
        PATH: `${process.env.PATH ?? ""}${delimiter}/usr/bin${delimiter}/bin`,
      },
      detached: true,
      stdio: ["pipe", "ignore", "ignore"],
    });
    reaper.on("error", () => undefined);
    reaper.stdin?.on("error", () => undefined);
    // Neither the reaper nor its pipe may keep this process alive.
    reaper.unref();
    (reaper.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  }
  reaper.stdin?.write(op === "add" ? `add ${pid} ${signal.replace(/^SIG/, "")}\n` : `del ${pid}\n`);
}

/**
 * Makes sure the process group led by `pid` does not outlive this process: when this process
 * ends or dies, the group gets `stopSignal` (then SIGKILL after 5 s). For a group this process
 * did not spawn (a server an earlier run left behind and this run adopts); `spawnGroup` does it
 * for its own. Returns the release, for once the group is stopped.
 */
export function guardGroup(pid: number, stopSignal: NodeJS.Signals = "SIGKILL"): () => void {
  installExitHook();
  liveGroups.set(pid, stopSignal);
  tellReaper("add", pid, stopSignal);
  return () => {
    if (!liveGroups.delete(pid)) return;
    tellReaper("del", pid);
  };
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  signalProcesses(-pid, signal);
}

/** `process.kill` that ignores a target gone already; `target` < 0 names a process group. */
function signalProcesses(target: number, signal: NodeJS.Signals): void {
  try {
    process.kill(target, signal);
  } catch {
    // gone already
  }
}

/** Whether the process (`target` < 0: any process of the group) still exists. */
function processesExist(target: number): boolean {
  try {
    process.kill(target, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, as another user (Postgres runs as `postgres` when we are root).
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Whether `pid` runs: it exists and is no zombie (dead, waiting to be reaped: an orphan's reaper,
 * pid 1, may take a second or two). Without /proc (macOS) a zombie counts as running.
 */
export function processIsRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX] /s.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return !existsSync("/proc/self/stat") && processesExist(pid);
  }
}

/**
 * Stops a server this process did not spawn, so cannot wait for (one an earlier run left behind):
 * sends `signal` to the group it leads, polls until it no longer runs, SIGKILLs it after
 * `timeoutMs`, and then what is left of its group. A process that leads no group (started by
 * hand) gets the signals alone.
 */
export async function stopGroup(
  pid: number,
  signal: NodeJS.Signals,
  timeoutMs: number,
): Promise<void> {
  const target = processesExist(-pid) ? -pid : pid;
  signalProcesses(target, signal);
  const deadline = Date.now() + timeoutMs;
  while (processIsRunning(pid)) {
    if (Date.now() > deadline) signalProcesses(target, "SIGKILL");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  if (target < 0) signalProcesses(target, "SIGKILL");
}

export function describeExit(status: ExitStatus): string {
  if (status.error) return status.error.message;
  return status.signal ? `killed by ${status.signal}` : `exit code ${status.code}`;
}

export function spawnGroup(
  command: string,
  args: readonly string[],
  options: SpawnGroupOptions,
): GroupProcess {
  const child: ChildProcess = spawn(command, args, {
    env: options.env,
    cwd: options.cwd,
    uid: options.uid,
    gid: options.gid,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let partial = "";
  const lineWaiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  const onData = (chunk: Buffer) => {
    const text = chunk.toString("utf8");
    output = (output + text).slice(-LOG_LIMIT);
    const lines = (partial + text).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      options.onLine?.(line);
      for (const waiter of [...lineWaiters]) {
        if (!waiter.pattern.test(line)) continue;
        lineWaiters.splice(lineWaiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);

  let status: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once("error", (error) => {
      // A spawn failure emits `error` and never `exit`.
      if (child.pid === undefined) {
        status = { code: null, signal: null, error };
        resolve(status);
      }
    });
    child.once("exit", (code, signal) => {
      status = { code, signal };
      resolve(status);
    });
  });
  const pid = child.pid;
  const release = pid === undefined ? undefined : guardGroup(pid, options.stopSignalOnExit);
  void exited.then(() => {
    if (pid === undefined) return;
    // The leader is gone; its group may not be (a backend, a grandchild): reap it too.
    killGroup(pid, "SIGKILL");
    release?.();
  });

  const onAbort = () => pid !== undefined && killGroup(pid, "SIGKILL");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  void exited.then(() => options.signal?.removeEventListener("abort", onAbort));

  return {
    pid,
    log: () => output,
    exited,
    hasExited: () => status !== undefined,
    waitForLine(pattern) {
      if (output.split("\n").some((line) => pattern.test(line))) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        lineWaiters.push({ pattern, resolve });
        void exited.then((exit) =>
          reject(new Error(`${command} exited during start-up (${describeExit(exit)})`)),
        );
      });
    },
    async stop(signal, timeoutMs) {
      if (status) return status;
      if (pid !== undefined) killGroup(pid, signal);
      const timer = setTimeout(() => pid !== undefined && killGroup(pid, "SIGKILL"), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Runs a command to completion; rejects with its output when it fails. */
export async function runToCompletion(
  command: string,
  args: readonly string[],
  options: SpawnGroupOptions,
): Promise<string> {
  const child = spawnGroup(command, args, options);
  const exit = await child.exited;
  if (options.signal?.aborted) throw abortError(options.signal);
  if (exit.error || exit.code !== 0) {
    const output = child.log().trim();
    throw new Error(`${command} failed (${describeExit(exit)})${output ? `: ${output}` : ""}`);
  }
  return child.log();
}

export function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error("aborted");
}

/**
 * `work`, or a rejection with `abortError(signal)` as soon as `signal` aborts (the work itself
 * goes on: the caller stops what it runs on, e.g. the server).
 */
export function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(abortError(signal));
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortError(signal));
    signal.addEventListener("abort", onAbort, { once: true });
  });
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener("abort", onAbort));
}

/** A port the OS says is free right now (a race is possible: callers retry on a bind failure). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("could not read the port of a probe socket"));
      });
    });
  });
}

/** Whether 127.0.0.1:`port` can be bound now. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

function tcpAccepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Resolves once `host:port` accepts a TCP connection; rejects when `child` exits first, on
 * abort, or after `timeoutMs`.
 */
export async function waitForTcp(
  host: string,
  port: number,
  child: GroupProcess,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (signal?.aborted) throw abortError(signal);
    if (child.hasExited()) {
      throw new Error(`the server exited before listening (${describeExit(await child.exited)})`);
    }
    if (await tcpAccepts(host, port)) return;
    if (Date.now() > deadline) {
      throw new Error(`the server did not listen on ${host}:${port} within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Absolute path of an executable on PATH (or in /usr/sbin, /usr/bin), or undefined. */
export function findExecutable(name: string, path = process.env.PATH ?? ""): string | undefined {
  for (const dir of [...path.split(delimiter).filter(Boolean), "/usr/sbin", "/usr/bin"]) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here: try the next directory
    }
  }
  return undefined;
}
