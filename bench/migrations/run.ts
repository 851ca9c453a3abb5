/**
 * Benchmark (a script, not a test): applying every migration to an empty database, and a no-op
 * run on an up-to-date one, with synter-infra's runner beside node-pg-migrate's own CLI, in the
 * same run on the same embedded Postgres 15. Each sample gets a fresh database.
 *
 * Three pairs are timed, because a CLI process pays Node start-up (and ours loading TypeScript)
 * that a long-lived caller such as the `pulumi up` resource does not:
 *   - CLI vs CLI: `node bin/synter-infra.js migrate up` (TypeScript from its compile cache,
 *     bin/typescript-cache.js) vs `node_modules/.bin/node-pg-migrate up`;
 *   - the same with the cache off (`SYNTER_INFRA_TS_CACHE=off`: tsx compiles and hooks every
 *     require), to show what the cache is worth;
 *   - in-process: `runMigrations()` vs node-pg-migrate's programmatic `runner()`.
 *
 * Usage: npm run bench:migrations [-- --repetitions 7]
 */
import { spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { runner } from "node-pg-migrate";
import { Client } from "pg";
import { DEFAULT_MIGRATIONS_DIR, runMigrations } from "../../src/migrate";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../test/support/embedded-postgres";

const ROOT = resolve(__dirname, "..", "..");
const OUR_CLI = join(ROOT, "bin", "synter-infra.js");
const THEIR_CLI = join(ROOT, "node_modules", ".bin", "node-pg-migrate");

function repetitionsFromArgs(): number {
  const i = process.argv.indexOf("--repetitions");
  const n = i >= 0 ? Number(process.argv[i + 1]) : 5;
  if (!Number.isInteger(n) || n < 1) throw new Error("--repetitions needs a whole number ≥ 1");
  return n;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function runProcess(
  command: string,
  args: string[],
  url: string,
  env: Readonly<Record<string, string>> = {},
): number {
  const started = performance.now();
  const result = spawnSync(command, args, {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, ...env, DATABASE_URL: url },
  });
  const elapsed = performance.now() - started;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed (${result.status}): ${result.stderr}`);
  }
  return elapsed;
}

type Tool = (url: string) => Promise<number>;

const ourCli: Tool = async (url) => runProcess("node", [OUR_CLI, "migrate", "up"], url);
const ourCliThroughTsx: Tool = async (url) =>
  runProcess("node", [OUR_CLI, "migrate", "up"], url, { SYNTER_INFRA_TS_CACHE: "off" });
const theirCli: Tool = async (url) =>
  runProcess(THEIR_CLI, ["up", "-m", DEFAULT_MIGRATIONS_DIR, "--no-verbose"], url);
const ourApi: Tool = async (url) => {
  const started = performance.now();
  await runMigrations({ databaseUrl: url });
  return performance.now() - started;
};
const theirApi: Tool = async (url) => {
  const started = performance.now();
  // Our own client (connected inside the timing): node-pg-migrate ends its own client without
  // waiting, and has no 'error' listener on it, so stopping the server right after would crash.
  const client = new Client({ connectionString: url });
  client.on("error", () => undefined);
  await client.connect();
  await runner({
    dbClient: client,
    dir: DEFAULT_MIGRATIONS_DIR,
    direction: "up",
    migrationsTable: "pgmigrations",
    log: () => undefined,
  });
  await client.end();
  return performance.now() - started;
};

let databaseCounter = 0;
async function sample(
  server: EmbeddedPostgres,
  tool: Tool,
): Promise<{ empty: number; noop: number }> {
  databaseCounter += 1;
  const url = await server.createDatabase(`bench_${databaseCounter}`);
  const empty = await tool(url);
  const noop = await tool(url);
  return { empty, noop };
}

interface Row {
  readonly label: string;
  readonly ours: number[];
  readonly theirs: number[];
}

async function main(): Promise<void> {
  const repetitions = repetitionsFromArgs();
  const loadBefore = loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
  const server = await startEmbeddedPostgres();
  try {
    const pairs: [string, Tool, Tool][] = [
      ["CLI", ourCli, theirCli],
      ["CLI, cache off (tsx)", ourCliThroughTsx, theirCli],
      ["in-process", ourApi, theirApi],
    ];
    const rows: Row[] = [];
    for (const [label, ours, theirs] of pairs) {
      const results = {
        ours: [] as { empty: number; noop: number }[],
        theirs: [] as { empty: number; noop: number }[],
      };
      // One warm-up each (page cache, compile caches), then alternate so drift hits both alike.
      await sample(server, ours);
      await sample(server, theirs);
      for (let i = 0; i < repetitions; i++) {
        results.ours.push(await sample(server, ours));
        results.theirs.push(await sample(server, theirs));
        process.stderr.write(`${label}: ${i + 1}/${repetitions}\r`);
      }
      process.stderr.write("\n");
      rows.push(
        {
          label: `${label}: all migrations, empty database`,
          ours: results.ours.map((r) => r.empty),
          theirs: results.theirs.map((r) => r.empty),
        },
        {
          label: `${label}: no-op run (nothing pending)`,
          ours: results.ours.map((r) => r.noop),
          theirs: results.theirs.map((r) => r.noop),
        },
      );
    }
    const lines = [
      `migrations: ${DEFAULT_MIGRATIONS_DIR} · Postgres 15 (embedded) · ${repetitions} repetitions, medians in ms`,
      "",
      `${"scenario".padEnd(58)} ${"synter-infra".padStart(12)} ${"node-pg-migrate".padStart(15)} ${"ratio".padStart(7)}`,
    ];
    for (const row of rows) {
      // Pair by pair (the two ran back to back), so drift in the machine's speed cancels out.
      const ratio = median(row.ours.map((ours, i) => ours / row.theirs[i]!));
      lines.push(
        `${row.label.padEnd(58)} ${median(row.ours).toFixed(1).padStart(12)} ${median(row.theirs).toFixed(1).padStart(15)} ${ratio.toFixed(2).padStart(6)}x`,
      );
    }
    lines.push(
      "",
      "ratio = synter-infra / node-pg-migrate (above 1 = slower): the median of the per-sample ratios.",
      `load average (1, 5, 15 min): ${loadBefore} before, ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")} after.`,
    );
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    await server.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
