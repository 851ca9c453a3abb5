/**
 * Helpers of the data suites that run the real CLI: the process (asynchronously, so servers and
 * proxies in this process keep running), its one `error:` line, the exact command a failure says
 * to run next, dumps of a run's results, and a TCP proxy that can cut every connection mid-run.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, Socket, type Server } from "node:net";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { Client } from "pg";
import type { ErrorKind } from "../../src/errors/tool-error";
import { EXIT_CODES } from "../../src/cli/exit-codes";
import { migrationTables } from "../../src/data/table-plan";
import { cutSocket } from "../../src/rehearse/tcp-proxy-listener";

export const ROOT = join(__dirname, "..", "..");
const BIN = join(ROOT, "bin", "synter-infra.js");

export interface CliRun {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time of the process, in milliseconds. */
  readonly ms: number;
}

export interface CliOptions {
  readonly env?: Readonly<Record<string, string>>;
  /** Runs the CLI under this umask (through `sh -c`), e.g. 0 to prove modes do not rely on it. */
  readonly umask?: number;
  /** Called with each stderr chunk as it arrives. */
  readonly onStderr?: (text: string) => void;
  /**
   * Killed (SIGKILL) after this long, and the run fails with a `CliTimeoutError` naming the command
   * and its stderr's tail, so a hang fails the test at once instead of stalling it (default
   * `DEFAULT_CLI_TIMEOUT_MS`). Size it to the work: a run of the small fixtures takes seconds.
   */
  readonly timeoutMs?: number;
}

export const DEFAULT_CLI_TIMEOUT_MS = 30_000;
const STDERR_TAIL_LINES = 15;

/** A CLI run that did not end within its `timeoutMs`: which command, and what it printed last. */
export class CliTimeoutError extends Error {
  constructor(args: readonly string[], timeoutMs: number, stderr: string) {
    const tail = stderr.trimEnd().split("\n").slice(-STDERR_TAIL_LINES).join("\n");
    super(
      `synter-infra ${args.join(" ")} did not finish within ${timeoutMs / 1000} s (killed); ` +
        (tail ? `the last lines of its stderr:\n${tail}` : "it printed nothing on stderr"),
    );
    this.name = "CliTimeoutError";
  }
}

/** `synter-infra <args>` as a child process. */
export function cli(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  const started = Date.now();
  const [command, argv] =
    options.umask === undefined
      ? [process.execPath, [BIN, ...args]]
      : [
          "sh",
          [
            "-c",
            `umask ${options.umask.toString(8)} && exec "$0" "$@"`,
            process.execPath,
            BIN,
            ...args,
          ],
        ];
  const child = spawn(command, argv, {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => {
    const text = c.toString("utf8");
    stderr += text;
    options.onStderr?.(text);
  });
  const timeoutMs = options.timeoutMs ?? DEFAULT_CLI_TIMEOUT_MS;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (status, signal) => {
      clearTimeout(timer);
      if (timedOut) reject(new CliTimeoutError(args, timeoutMs, stderr));
      else resolve({ status, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** The `error:` lines of a run's stderr. */
export function errorLines(run: CliRun): string[] {
  return run.stderr.split("\n").filter((line) => line.startsWith("error:"));
}

/**
 * The run failed with the kind's exit code and exactly one error line, `line` (a string, or a
 * pattern for what varies), and printed no stack trace.
 */
export function expectFailure(run: CliRun, kind: ErrorKind, line: string | RegExp): void {
  expect({ status: run.status, errors: errorLines(run) }).toEqual({
    status: EXIT_CODES[kind],
    errors: [typeof line === "string" ? line : expect.stringMatching(line)],
  });
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(run.stderr).not.toMatch(/internal error/);
}

/** Exit status, with stderr when it is not 0, so a wrong status explains itself. */
export function statusOf(run: CliRun): { status: number | null; stderr?: string } {
  return run.status === 0 ? { status: 0 } : { status: run.status, stderr: run.stderr };
}

/** The words of a command line as a POSIX shell splits them (single quotes, `'\''`). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      word += line.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === "\\") {
      word += line[++i];
      inWord = true;
    } else if (c === " ") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** The arguments of the `synter-infra …` command an error line says to run next. */
export function nextCommand(run: CliRun): string[] {
  const line = errorLines(run)[0] ?? "";
  const at = line.indexOf("to continue, run: synter-infra ");
  if (at < 0) throw new Error(`no command to run next in: ${line}`);
  return shellWords(line.slice(at + "to continue, run: synter-infra ".length));
}

const authTables = migrationTables().filter((t) => t.target === "postgres");
const analyticsTables = migrationTables().filter((t) => t.target === "bigquery");

/** Every auth table's rows as Postgres prints them, in key order. */
export async function dumpPostgres(url: string): Promise<Record<string, (string | null)[][]>> {
  const pg = new Client({ connectionString: url });
  await pg.connect();
  try {
    const out: Record<string, (string | null)[][]> = {};
    for (const t of authTables) {
      const result = await pg.query({
        text: `SELECT ${t.columns.map((c) => `"${c.name}"`).join(", ")} FROM "${t.name}" ORDER BY "${t.key.name}"`,
        rowMode: "array",
        types: { getTypeParser: () => (v: string) => v },
      });
      out[t.name] = result.rows as (string | null)[][];
    }
    return out;
  } finally {
    await pg.end();
  }
}

/** Every analytics table's load files: names and decompressed lines. */
export function dumpFiles(dir: string): Record<string, { name: string; lines: string[] }[]> {
  return Object.fromEntries(
    analyticsTables.map((t) => [
      t.name,
      readdirSync(join(dir, t.name))
        .filter((f) => f.endsWith(".ndjson.gz"))
        .sort()
        .map((name) => ({
          name,
          lines: gunzipSync(readFileSync(join(dir, t.name, name)))
            .toString("utf8")
            .split("\n")
            .filter(Boolean),
        })),
    ]),
  );
}

/** Permission bits of a path, e.g. `0o600`. */
export function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

/**
 * A TCP proxy in front of a server. `cutAfter` counts the bytes of one direction and, once past
 * the threshold, runs `onCut` (e.g. SIGKILL of the real server) and then resets every connection
 * and stops listening: to the client exactly a server that died. `reopen` listens again on the
 * same port.
 */
export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private counted = 0;
  private cut?: {
    readonly direction: "toServer" | "toClient";
    readonly bytes: number;
    readonly onCut: () => Promise<void> | void;
  };
  private cutting?: Promise<void>;
  port = 0;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<number> {
    this.server = createServer((client) => this.connect(client));
    await new Promise<void>((resolve) => this.server!.listen(this.port, "127.0.0.1", resolve));
    const address = this.server.address();
    this.port = typeof address === "object" && address ? address.port : 0;
    return this.port;
  }

  /** Listens again on the same port (after a cut). */
  async reopen(): Promise<void> {
    this.cut = undefined;
    this.cutting = undefined;
    await this.start();
  }

  cutAfter(
    direction: "toServer" | "toClient",
    bytes: number,
    onCut: () => Promise<void> | void = () => undefined,
  ): void {
    this.counted = 0;
    this.cut = { direction, bytes, onCut };
  }

  /** Resolves once a cut has happened (or at once when none was armed). */
  whenCut(): Promise<void> {
    return this.cutting ?? Promise.resolve();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) =>
      this.server?.listening ? this.server.close(() => resolve()) : resolve(),
    );
  }

  private connect(client: Socket): void {
    const upstream = new Socket();
    this.sockets.add(client);
    this.sockets.add(upstream);
    const forget = (s: Socket) => () => this.sockets.delete(s);
    client.on("close", forget(client));
    upstream.on("close", forget(upstream));
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
    const pipe = (from: Socket, to: Socket, direction: "toServer" | "toClient") =>
      from.on("data", (chunk: Buffer) => {
        if (this.cutting) return;
        to.write(chunk);
        if (this.cut?.direction !== direction) return;
        this.counted += chunk.length;
        if (this.counted >= this.cut.bytes) this.cutting = this.cutNow();
      });
    upstream.connect(this.targetPort, "127.0.0.1", () => {
      pipe(client, upstream, "toServer");
      pipe(upstream, client, "toClient");
    });
  }

  private async cutNow(): Promise<void> {
    const onCut = this.cut!.onCut;
    this.server?.close();
    await onCut();
    for (const s of this.sockets) cutSocket(s);
    this.sockets.clear();
  }
}
