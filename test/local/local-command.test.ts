/**
 * `synter-infra local` end to end, as a user runs it: the CLI in a child process, in a temp
 * project folder, on free ports. Checks every step's output, `.env.local`, idempotent re-runs,
 * a clean stop on SIGINT, and the behaviour without `redis-server` on the PATH.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, statSync, symlinkSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { Client } from "pg";
import { findExecutable } from "../../src/local/executables";
import {
  cli,
  envFile,
  repo,
  runLocal,
  startLocal,
  useLocalProjects,
  withRedis,
  type LocalProject,
} from "./local-cli";

describe("synter-infra local", () => {
  const projects = useLocalProjects();
  let project: LocalProject;
  let dir: string;
  let pgPort: number;
  let redisPort: number;
  const portArgs = () => project.args;

  beforeEach(() => {
    project = projects.project();
    ({ dir, pgPort, redisPort } = project);
  });

  withRedis(
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
    const run = startLocal(["--no-redis", ...portArgs()]);
    try {
      await run.waitForLine("running: press Ctrl-C to stop");
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
      run.child.kill("SIGINT");
      expect(await run.exited).toBe(0);
      expect(run.stdout()).toContain("SIGINT: stopping Redis and Postgres\nstopped\n");
    } finally {
      if (run.child.exitCode === null) {
        run.child.kill("SIGTERM");
        await run.exited;
      }
    }
  });
});
