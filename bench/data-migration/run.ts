/**
 * Benchmark: this tool vs pgloader, MariaDB (standing in for SingleStore) → Postgres, on the same
 * generated legacy dataset in the same run.
 *
 *   npm run bench:data-migration -- [--events 1000000]
 *
 * 1. starts a throwaway MariaDB and embedded Postgres 15;
 * 2. generates the ten legacy tables: `--events` events (default 1,000,000) and the other tables in
 *    proportion, inside MariaDB (its SEQUENCE engine, so generation is fast);
 * 3. runs `synter-infra data migrate` (auth tables → Postgres by COPY, analytics tables → gzip NDJSON
 *    load files, verification included) and records wall time and peak RSS of that process;
 * 4. lets Postgres finish what our run left in the background (VACUUM ANALYZE, CHECKPOINT), then
 *    runs pgloader (all ten tables → another Postgres database; it creates its own tables);
 * 5. prints rows/s of both, the ratio, and this tool's peak memory.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createConnection, type Connection } from "mysql2/promise";
import { Client } from "pg";
import { migrationTables, renderLegacyDdl } from "../../src/data/table-plan";
import { startEmbeddedPostgres } from "../../test/support/embedded-postgres";
import { startMariaDb } from "../../test/support/mariadb";
import { createAuthSchema } from "../../test/data/target-schema";

const ROOT = join(__dirname, "..", "..");

function argument(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Row counts in the proportions of the production database (events dominate). */
export function proportions(events: number): Record<string, number> {
  const r = (share: number) => Math.max(10, Math.round(events * share));
  return {
    users: r(0.05),
    sessions: r(0.1),
    magic_links: r(0.02),
    oauth_accounts: r(0.02),
    campaign_policies: r(0.001),
    events,
    ad_metrics: r(0.1),
    conversions: r(0.05),
    touchpoints: r(0.3),
    agent_runs: r(0.005),
  };
}

/** INSERT … SELECT over MariaDB's seq_1_to_N tables: realistic values, NULLs, quotes, unicode. */
export function generators(counts: Record<string, number>): Record<string, string> {
  const users = counts.users;
  const ts = (expr: string) => `TIMESTAMPADD(MICROSECOND, ${expr}, '2023-01-01 00:00:00')`;
  return {
    users: `INSERT INTO users (id, email, password_hash, name, role, created_at, updated_at, is_active)
      SELECT seq, CONCAT('user', seq, '@example.com'), IF(seq % 5 = 0, NULL, CONCAT('$2b$12$', MD5(seq))),
        IF(seq % 7 = 0, 'Zoë "Z" O''Brien, 😀', CONCAT('User ', seq)), ELT(1 + seq % 3, 'admin', 'analyst', 'viewer'),
        ${ts("seq * 1000003")}, ${ts("seq * 1000033")}, seq % 11 <> 0 FROM seq_1_to_${users}`,
    sessions: `INSERT INTO sessions (id, user_id, session_token, created_at, expires_at, user_agent, ip)
      SELECT seq, 1 + seq % ${users}, CONCAT(MD5(seq), MD5(seq + 1)), ${ts("seq * 700001")}, ${ts("seq * 700001 + 86400000000")},
        IF(seq % 3 = 0, NULL, 'Mozilla/5.0 (X11; Linux x86_64)\tAppleWebKit'), CONCAT('10.0.', seq % 256, '.', seq % 254) FROM seq_1_to_${counts.sessions}`,
    magic_links: `INSERT INTO magic_links (id, user_id, token, created_at, expires_at, used_at)
      SELECT seq, IF(seq % 9 = 0, NULL, 1 + seq % ${users}), CONCAT(MD5(seq * 3), MD5(seq * 7)), ${ts("seq * 900001")},
        ${ts("seq * 900001 + 900000000")}, IF(seq % 2 = 0, ${ts("seq * 900001 + 60000000")}, NULL) FROM seq_1_to_${counts.magic_links}`,
    oauth_accounts: `INSERT INTO oauth_accounts (id, user_id, provider, provider_user_id, access_token, refresh_token, expires_at)
      SELECT seq, 1 + seq % ${users}, ELT(1 + seq % 2, 'google', 'github'), CONCAT('pid-', seq), CONCAT('ya29.', MD5(seq)),
        IF(seq % 4 = 0, NULL, CONCAT('1//', MD5(seq * 11))), TIMESTAMPADD(SECOND, seq, '2025-01-01 00:00:00') FROM seq_1_to_${counts.oauth_accounts}`,
    campaign_policies: `INSERT INTO campaign_policies (id, platform, account_id, campaign_id, target_cac, max_cac, min_budget, max_budget, min_conversions, created_at, updated_at)
      SELECT seq, ELT(1 + seq % 3, 'google', 'reddit', 'x'), CONCAT('acct-', seq % 50), CONCAT('camp-', seq), (seq % 10000) / 100,
        (seq % 20000) / 100, IF(seq % 3 = 0, NULL, 10.50), 99999999.99, 3, ${ts("seq * 1000")}, ${ts("seq * 2000")} FROM seq_1_to_${counts.campaign_policies}`,
    events: `INSERT INTO events (id, event_name, ts, user_id, anonymous_id, session_id, utm_source, utm_medium, utm_campaign, utm_term, utm_content,
        gclid, gbraid, wbraid, rdt_cid, twclid, referrer, revenue, currency, properties)
      SELECT seq, ELT(1 + seq % 4, 'page_view', 'purchase', 'signup', 'add_to_cart'), ${ts("seq * 2591")},
        IF(seq % 3 = 0, NULL, CONCAT('u', seq % ${users})), MD5(seq), CONCAT('s', seq DIV 7),
        ELT(1 + seq % 4, 'google', 'reddit', 'x', NULL), IF(seq % 4 = 3, NULL, 'cpc'), CONCAT('camp-', seq % 500),
        IF(seq % 6 = 0, 'running shoes, "red"', NULL), IF(seq % 5 = 0, 'ad\tvariant\\b', NULL),
        IF(seq % 4 = 0, MD5(seq * 3), NULL), NULL, NULL, IF(seq % 4 = 1, MD5(seq * 5), NULL), IF(seq % 4 = 2, MD5(seq * 7), NULL),
        CONCAT('https://example.com/p?id=', seq, IF(seq % 13 = 0, '&q=é😀\\r\\n', '')),
        IF(seq % 4 = 1, (seq % 100000) / 1000 + 0.000001, NULL), IF(seq % 4 = 1, 'USD', NULL),
        IF(seq % 10 = 0, NULL, JSON_OBJECT('path', CONCAT('/p/', seq % 1000), 'n', seq % 17, 'label', IF(seq % 9 = 0, 'café "😀"', 'x'), 'items', JSON_ARRAY(seq % 5, 2.5)))
      FROM seq_1_to_${counts.events}`,
    ad_metrics: `INSERT INTO ad_metrics (id, platform, date, account_id, campaign_id, adgroup_id, ad_id, impressions, clicks, conversions, spend, revenue, raw)
      SELECT seq, ELT(1 + seq % 3, 'google', 'reddit', 'x'), DATE_ADD('2023-01-01', INTERVAL seq % 700 DAY), CONCAT('acct-', seq % 50),
        CONCAT('camp-', seq), CONCAT('ag-', seq % 1000), CONCAT('ad-', seq), seq * 37, seq % 1000, seq % 20,
        (seq % 1000000) / 1000, (seq % 3000000) / 1000, JSON_OBJECT('cost_micros', seq * 1000, 'name', CONCAT('Campaign ', seq)) FROM seq_1_to_${counts.ad_metrics}`,
    conversions: `INSERT INTO conversions (id, event_id, user_id, ts, event_name, value, currency)
      SELECT seq, seq * 4 + 1, CONCAT('u', seq % ${users}), ${ts("seq * 9001")}, ELT(1 + seq % 2, 'purchase', 'signup'),
        IF(seq % 2 = 0, NULL, (seq % 500000) / 1000), IF(seq % 2 = 0, NULL, 'EUR') FROM seq_1_to_${counts.conversions}`,
    touchpoints: `INSERT INTO touchpoints (id, user_id, ts, platform, campaign, adgroup, ad_id, medium, source, gclid, rdt_cid, twclid,
        utm_source, utm_medium, utm_campaign, utm_term, utm_content, properties)
      SELECT seq, CONCAT('u', seq % ${users}), ${ts("seq * 8117")}, ELT(1 + seq % 4, 'google', 'reddit', 'x', 'other'), CONCAT('camp-', seq % 500),
        CONCAT('ag-', seq % 1000), NULL, ELT(1 + seq % 3, 'cpc', 'social', 'direct'), 'google', IF(seq % 4 = 0, MD5(seq), NULL), NULL, NULL,
        'google', 'cpc', CONCAT('camp-', seq % 500), NULL, NULL, IF(seq % 2 = 0, NULL, JSON_OBJECT('landing', CONCAT('/l/', seq % 100)))
      FROM seq_1_to_${counts.touchpoints}`,
    agent_runs: `INSERT INTO agent_runs (id, agent, run_id, started_at, finished_at, ok, stats, watermark)
      SELECT seq, ELT(1 + seq % 3, 'google-ads', 'reddit-ads', 'x-ads'), CONCAT('run-', seq), ${ts("seq * 3600000000")},
        IF(seq % 7 = 0, NULL, ${ts("seq * 3600000000 + 120000000")}), IF(seq % 7 = 0, NULL, seq % 13 <> 0),
        JSON_OBJECT('rows', seq * 10, 'ms', seq % 9000), CONCAT('2024-', seq) FROM seq_1_to_${counts.agent_runs}`,
  };
}

interface Timed {
  seconds: number;
  code: number | null;
  /** stdout and stderr, interleaved (pgloader reports on stdout). */
  stderr: string;
}

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<Timed> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stderr += c.toString("utf8");
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString("utf8");
      if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      resolve({ seconds: Number(process.hrtime.bigint() - started) / 1e9, code, stderr }),
    );
  });
}

/**
 * Waits until InnoDB has flushed the generated rows and purged their undo history: right after a
 * bulk insert MariaDB keeps a core busy with that for a while, which would slow whichever migration
 * runs first. Returns the seconds waited.
 */
export async function settle(admin: Connection): Promise<number> {
  const started = Date.now();
  const status = async (name: string) => {
    const [rows] = await admin.query({
      sql: `SHOW GLOBAL STATUS LIKE '${name}'`,
      rowsAsArray: true,
    });
    return Number((rows as unknown as [string, string][])[0]?.[1] ?? 0);
  };
  await admin.query("SET GLOBAL innodb_max_dirty_pages_pct = 0");
  try {
    while (Date.now() - started < 180_000) {
      const dirty = await status("Innodb_buffer_pool_pages_dirty");
      const history = await status("Innodb_history_list_length");
      if (dirty === 0 && history === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    await admin.query("SET GLOBAL innodb_max_dirty_pages_pct = DEFAULT");
  }
  return (Date.now() - started) / 1000;
}

/** CHECKPOINT and VACUUM ANALYZE of a database just loaded, so no autovacuum or flush follows. */
export async function settlePostgres(url: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("VACUUM ANALYZE");
    await client.query("CHECKPOINT");
  } finally {
    await client.end();
  }
}

async function countRows(url: string, schema: string): Promise<Record<string, number>> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const tables = await client.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
      [schema],
    );
    const counts: Record<string, number> = {};
    for (const { table_name } of tables.rows) {
      const r = await client.query(`SELECT count(*)::int AS n FROM "${schema}"."${table_name}"`);
      counts[table_name] = r.rows[0].n as number;
    }
    return counts;
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const events = argument("events", 1_000_000);
  const counts = proportions(events);
  const totalRows = Object.values(counts).reduce((a, b) => a + b, 0);
  const work = mkdtempSync(join(tmpdir(), "synter-bench-"));
  const [maria, pg] = await Promise.all([startMariaDb(), startEmbeddedPostgres()]);
  try {
    const admin = await createConnection({ uri: maria.url("mysql"), multipleStatements: true });
    await admin.query(
      "CREATE DATABASE legacy; CREATE USER bench@'%' IDENTIFIED BY 'bench'; GRANT ALL ON legacy.* TO bench@'%'",
    );
    await admin.query("USE legacy");
    const started = Date.now();
    for (const table of migrationTables()) await admin.query(renderLegacyDdl(table));
    for (const [table, sql] of Object.entries(generators(counts))) {
      await admin.query(sql);
      process.stderr.write(`generated ${table}: ${counts[table]} rows\n`);
    }
    const settled = await settle(admin);
    await admin.end();
    process.stderr.write(
      `generated ${totalRows} rows in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
        `(then ${settled.toFixed(1)} s for InnoDB to flush and purge)\n`,
    );

    const source = `mysql://bench:bench@127.0.0.1:${maria.port}/legacy`;
    const ours = await pg.createDatabase("synter");
    await createAuthSchema(ours);
    const theirs = await pg.createDatabase("pgloader");
    const rssFile = join(work, "maxrss");
    const cli = process.env.SYNTER_BENCH_CLI ?? join(ROOT, "bin", "synter-infra.js");
    const tool = await run(
      process.execPath,
      [
        ...(process.env.SYNTER_BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
        "--require",
        join(__dirname, "report-max-rss.js"),
        cli,
        "data",
        "migrate",
        "--source",
        source,
        "--postgres",
        ours,
        "--out",
        join(work, "out"),
        ...(process.env.SYNTER_BENCH_MIGRATE_ARGS?.split(" ").filter(Boolean) ?? []),
      ],
      { SYNTER_MAXRSS_FILE: rssFile },
    );
    if (tool.code !== 0)
      throw new Error(
        `synter-infra data migrate failed (${tool.code}):\n${tool.stderr.slice(-4000)}`,
      );
    const verified = (tool.stderr.match(/^verify .*: ok/gm) ?? []).length;
    if (verified !== 10 && !process.env.SYNTER_BENCH_MIGRATE_ARGS?.includes("--no-verify"))
      throw new Error(`expected 10 verified tables:\n${tool.stderr.slice(-4000)}`);
    const maxRssMb = Number(readFileSync(rssFile, "utf8")) / 1024;

    process.stderr.write(
      `synter-infra data migrate: ${tool.seconds.toFixed(1)} s, peak RSS ${maxRssMb.toFixed(0)} MB\n`,
    );
    // The tool's own summary: per-table times, copy vs verification.
    const summaryStart = tool.stderr.indexOf("table ");
    if (summaryStart >= 0)
      process.stdout.write(tool.stderr.slice(summaryStart).replace(/^verify .*\n/gm, ""));
    // pgloader copies MariaDB's `DEFAULT current_timestamp(6)` as a quoted literal, which Postgres
    // rejects (the whole run then fails, yet pgloader exits 0): drop those defaults by a CAST rule.
    // Its default batches exhaust SBCL's heap on a million rows of this width ("Heap exhausted
    // during garbage collection"): smaller prefetch and batches keep it alive.
    // What our run left to the servers in the background (autovacuum of the tables it loaded,
    // dirty buffers) would slow pgloader, which runs next: done now, outside both timings.
    await settlePostgres(ours);
    const loadFile = join(work, "pgloader.load");
    writeFileSync(
      loadFile,
      `LOAD DATABASE FROM ${source} INTO ${theirs}
 WITH include drop, create tables, create indexes, reset sequences, foreign keys,
      workers = 2, concurrency = 1, prefetch rows = 10000, batch rows = 10000
 CAST type datetime to timestamptz drop default using zero-dates-to-null;\n`,
    );
    const loader = await run("pgloader", ["--no-ssl-cert-verification", loadFile]);
    if (loader.code !== 0)
      throw new Error(`pgloader failed (${loader.code}):\n${loader.stderr.slice(-4000)}`);
    if (process.env.SYNTER_BENCH_DEBUG) process.stderr.write(loader.stderr);
    const loaded = await countRows(theirs, "legacy");
    const ourRows = await countRows(ours, "public");
    for (const [table, expected] of Object.entries(counts)) {
      if (loaded[table] !== expected) {
        throw new Error(
          `pgloader moved ${loaded[table] ?? 0} of ${expected} ${table} rows:\n${loader.stderr.slice(-4000)}`,
        );
      }
      if (table in ourRows && ourRows[table] !== expected) {
        throw new Error(`synter-infra moved ${ourRows[table]} of ${expected} ${table} rows`);
      }
    }

    const toolRate = totalRows / tool.seconds;
    const loaderRate = totalRows / loader.seconds;
    const lines = [
      `rows: ${totalRows} (${events} events)`,
      `synter-infra data migrate (with verification): ${tool.seconds.toFixed(1)} s, ${Math.round(toolRate)} rows/s, peak RSS ${maxRssMb.toFixed(0)} MB`,
      `pgloader ${""}(all tables into Postgres):        ${loader.seconds.toFixed(1)} s, ${Math.round(loaderRate)} rows/s`,
      `ratio (synter / pgloader): ${(toolRate / loaderRate).toFixed(2)}`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
    process.stdout.write(
      `${JSON.stringify({ rows: totalRows, events, synter: { seconds: tool.seconds, rowsPerSecond: toolRate, peakRssMb: maxRssMb }, pgloader: { seconds: loader.seconds, rowsPerSecond: loaderRate }, ratio: toolRate / loaderRate })}\n`,
    );
  } finally {
    await Promise.all([maria.stop(), pg.stop()]);
    rmSync(work, { recursive: true, force: true });
  }
}

// Importable (for profiling against servers kept alive) without running.
if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
