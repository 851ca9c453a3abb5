/**
 * `synter-infra local` end to end, as a user runs it: the CLI in a child process, in a temp
 * project folder, on free ports. Checks every step's output, `.env.local`, idempotent re-runs,
 * a clean stop on SIGINT, and the behaviour without `redis-server` on the PATH.
 */
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  mkdirSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Client } from "pg";
import { findExecutable } from "../../src/local/executables";
import { findRedisServer } from "../../src/local/redis-server";
import { freePort } from "../support/embedded-postgres";
import { REQUIRE_SERVERS_VARIABLE } from "../support/servers";

const repo = resolve(__dirname, "..", "..");
const cli = join(repo, "bin", "synter-infra.js");

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runLocal(args: string[], env: NodeJS.ProcessEnv = process.env): Run {
  const result = spawnSync(process.execPath, [cli, "local", ...args], {
    cwd: repo,
    env,
    encoding: "utf8",
    timeout: 110_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Processes whose command line mentions `marker` (a data dir or a port): none may outlive a run. */
function processesMentioning(marker: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      if (cmdline.includes(marker) && Number(pid) !== process.pid) found.push(`${pid}: ${cmdline}`);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

function envFile(dir: string): Record<string, string> {
  const entries = readFileSync(join(dir, ".env.local"), "utf8")
    .split("\n")
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]);
  return Object.fromEntries(entries);
}

const redisInstalled = findRedisServer() !== undefined;
if (!redisInstalled && process.env[REQUIRE_SERVERS_VARIABLE] === "1") {
  throw new Error(`${REQUIRE_SERVERS_VARIABLE}=1 but redis-server is not installed`);
}

describe("synter-infra local", () => {
  let dir: string;
  let pgPort: number;
  let redisPort: number;
  const portArgs = () => [
    "--project-dir",
    dir,
    "--port",
    String(pgPort),
    "--redis-port",
    String(redisPort),
  ];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "synter-local-test-"));
    // As a clone would be (mkdtemp makes 0700): as root, Postgres runs as `postgres` and must
    // be able to reach .local/postgres.
    chmodSync(dir, 0o755);
    pgPort = await freePort();
    redisPort = await freePort();
  });
  afterEach(() => {
    expect(processesMentioning(join(dir, ".local"))).toEqual([]);
    expect(processesMentioning(`127.0.0.1:${redisPort}`)).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  (redisInstalled ? it : it.skip)(
    "--once brings up Postgres, roles, migrations, verify, sample data and Redis, writes .env.local, stops",
    async () => {
      const first = runLocal(["--once", ...portArgs()]);
      expect([first.status, first.stderr]).toEqual([0, ""]);
      const lines = first.stdout.split("\n");
      expect(lines).toContain(
        `postgres: starting PostgreSQL 15 on 127.0.0.1:${pgPort} (data in .local/postgres)`,
      );
      expect(lines).toContain("postgres: ready (new cluster)");
      expect(lines).toContain(
        "roles: synter_migrator, synter_app, synter_readonly and database synter created (schema/roles.ts)",
      );
      expect(lines.some((l) => /^migrations: applied \S+/.test(l))).toBe(true);
      expect(lines).toContain("verify: the database matches schema/");
      expect(lines).toContain(
        "sample data: +3 users, +2 sessions, +2 campaign policies (as synter_app)",
      );
      expect(lines).toContain(
        `redis: ready on 127.0.0.1:${redisPort} (maxmemory-policy noeviction, appendonly yes; data in .local/redis)`,
      );
      expect(lines).toContain(
        `  POSTGRES_URL=postgresql://synter_app:****@127.0.0.1:${pgPort}/synter?sslmode=disable`,
      );
      expect(lines).toContain(
        `  MIGRATOR_POSTGRES_URL=postgresql://synter_migrator:****@127.0.0.1:${pgPort}/synter?sslmode=disable`,
      );
      expect(lines).toContain(`  REDIS_URL=redis://default:****@127.0.0.1:${redisPort}`);
      expect(lines).toContain("stopped (--once)");

      const env = envFile(dir);
      expect(Object.keys(env)).toEqual([
        "POSTGRES_URL",
        "MIGRATOR_POSTGRES_URL",
        "REDIS_URL",
        "BIGQUERY_PROJECT_ID",
        "BIGQUERY_DATASET",
      ]);
      expect(env.POSTGRES_URL).toMatch(
        new RegExp(
          `^postgresql://synter_app:[0-9a-f]{48}@127\\.0\\.0\\.1:${pgPort}/synter\\?sslmode=disable$`,
        ),
      );
      expect(env.MIGRATOR_POSTGRES_URL).toMatch(
        new RegExp(
          `^postgresql://synter_migrator:[0-9a-f]{48}@127\\.0\\.0\\.1:${pgPort}/synter\\?sslmode=disable$`,
        ),
      );
      expect(env.REDIS_URL).toMatch(
        new RegExp(`^redis://default:[0-9a-f]{48}@127\\.0\\.0\\.1:${redisPort}$`),
      );
      expect(env).toMatchObject({
        BIGQUERY_PROJECT_ID: "synter-local",
        BIGQUERY_DATASET: "synter_analytics",
      });
      // The full passwords live only in the owner-only file, never in the output.
      expect(statSync(join(dir, ".env.local")).mode & 0o777).toBe(0o600);
      expect(first.stdout).not.toContain(env.POSTGRES_URL.split(":")[2].split("@")[0]);

      expect(statSync(join(dir, ".local", "credentials.json")).mode & 0o777).toBe(0o600);

      // Second run: same data dir, nothing new to apply or load; the app URL still works after it.
      // Files loosened meanwhile (a copy, an old checkout) are owner-only again after the run.
      chmodSync(join(dir, ".env.local"), 0o644);
      chmodSync(join(dir, ".local", "credentials.json"), 0o644);
      const second = runLocal(["--once", ...portArgs()]);
      expect([second.status, second.stderr]).toEqual([0, ""]);
      expect(statSync(join(dir, ".env.local")).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, ".local", "credentials.json")).mode & 0o777).toBe(0o600);
      expect(second.stdout).toContain("postgres: ready\n");
      expect(second.stdout).toContain("migrations: up to date\n");
      expect(second.stdout).toContain("sample data: already loaded\n");
      expect(envFile(dir).POSTGRES_URL).toBe(env.POSTGRES_URL);

      // --reset starts from an empty cluster with new passwords.
      const reset = runLocal(["--once", "--reset", "--no-redis", ...portArgs()]);
      expect([reset.status, reset.stderr]).toEqual([0, ""]);
      expect(reset.stdout).toContain("postgres: ready (new cluster)\n");
      expect(reset.stdout).toContain("redis: skipped (--no-redis); REDIS_URL is not set\n");
      expect(envFile(dir).POSTGRES_URL).not.toBe(env.POSTGRES_URL);
    },
  );

  it("without redis-server on the PATH it still succeeds and says how to install it", () => {
    // A PATH with only the tools the command needs: no redis-server anywhere on it.
    const bin = join(dir, "bin");
    mkdirSync(bin);
    for (const tool of ["id", "chown", "test", "sh", "locale"]) {
      const found = findExecutable(tool);
      if (found) symlinkSync(found, join(bin, tool));
    }
    const run = runLocal(["--once", "--no-sample-data", ...portArgs()], {
      ...process.env,
      PATH: bin,
    });
    expect([run.status, run.stderr]).toEqual([0, ""]);
    expect(run.stdout).toContain(
      "redis: redis-server is not installed, so REDIS_URL is not set; install it: apt-get install redis-server (Debian/Ubuntu) or brew install redis (macOS)\n",
    );
    expect(Object.keys(envFile(dir))).toEqual([
      "POSTGRES_URL",
      "MIGRATOR_POSTGRES_URL",
      "BIGQUERY_PROJECT_ID",
      "BIGQUERY_DATASET",
    ]);
  });

  it("stays up until SIGINT, serving the app role, then stops everything and exits 0", async () => {
    const child = spawn(process.execPath, [cli, "local", "--no-redis", ...portArgs()], {
      cwd: repo,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    const exited = new Promise<number | null>((resolveExit) => child.once("exit", resolveExit));
    try {
      const deadline = Date.now() + 100_000;
      while (!stdout.includes("running: press Ctrl-C to stop")) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`not up: ${stdout}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const client = new Client({ connectionString: envFile(dir).POSTGRES_URL });
      await client.connect();
      const { rows } = await client.query(
        "SELECT email FROM users WHERE email = $1 AND is_active = true",
        ["bob.builder@example.com"],
      );
      expect(rows).toEqual([{ email: "Bob.Builder@Example.com" }]);
      await client.end();
      // The migrator's URL is the one migrations run with: nothing is pending after the start.
      const status = spawnSync(
        process.execPath,
        [cli, "migrate", "status", "--database-url", envFile(dir).MIGRATOR_POSTGRES_URL],
        { cwd: repo, encoding: "utf8", timeout: 60_000 },
      );
      expect([status.status, status.stderr]).toEqual([0, ""]);
      child.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(stdout).toContain("SIGINT: stopping Redis and Postgres\nstopped\n");
    } finally {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
    }
  });
});
