/**
 * Benchmark: this tool vs pgloader, MariaDB (standing in for SingleStore) → Postgres, on the same
 * generated legacy dataset in the same run.
 *
 *   npm run bench:data-migration -- [--events 1000000] [--runs 1]
 *
 * 1. starts a throwaway MariaDB and embedded Postgres 15;
 * 2. generates the ten legacy tables: `--events` events (default 1,000,000) and the other tables in
 *    proportion, inside MariaDB (its SEQUENCE engine, so generation is fast);
 * 3. measures the read floor: the mysql client reading all ten tables into /dev/null, in parallel
 *    (this also warms MariaDB's buffer pool for every run after it);
 * 4. equal work, auth: `data migrate --tables <the five auth tables>` into Postgres, pgloader on the
 *    same five tables, and a plain `mysql --batch | psql \copy` per table in foreign-key order;
 * 5. equal work, analytics: `data migrate --tables <the five analytics tables> --out` (gzip NDJSON
 *    load files) against the floor, `mysql --batch --quick | gzip -1`, five tables in parallel;
 * 6. the whole run (all ten tables, verification included) against pgloader on all ten tables;
 * 7. prints a table of the split, peak RSS of every run of this tool and, last, one JSON line.
 * Between runs Postgres finishes what the previous one left in the background (VACUUM ANALYZE,
 * CHECKPOINT), outside every timing.
 */
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createConnection, type Connection } from "mysql2/promise";
import { Client } from "pg";
import { migrationTables, renderLegacyDdl, type MigrationTable } from "../../src/data/table-plan";
import { findBinary } from "../../test/support/servers";
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
  /** CPU-seconds of the command (with its children), of MariaDB and of Postgres, during it. */
  cpu: CpuSplit;
}

interface CpuSplit {
  /** Undefined where GNU time (/usr/bin/time) is missing. */
  client?: number;
  mariadb: number;
  postgres: number;
}

/** The servers whose CPU time every timed command is charged with (set once they run). */
const servers: { mariadbPid?: number; postmasterPid?: number } = {};
const CLOCK_TICKS = 100;

/** utime + stime (and, with `children`, the reaped children's) of a process, in seconds. */
function processCpu(pid: number, children: boolean): number {
  try {
    // Fields after the parenthesised command: state is 3rd, utime 14th … cstime 17th.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    const ticks = [11, 12, ...(children ? [13, 14] : [])].reduce(
      (a, i) => a + Number(fields[i]),
      0,
    );
    return ticks / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .split(" ")
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** The pid of the live process whose command line contains `needle`. */
function pidOf(needle: string): number | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(needle)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** MariaDB's threads; Postgres's postmaster with its reaped backends plus the live ones. */
function serverCpu(): { mariadb: number; postgres: number } {
  const postmaster = servers.postmasterPid;
  return {
    mariadb: servers.mariadbPid === undefined ? 0 : processCpu(servers.mariadbPid, false),
    postgres:
      postmaster === undefined
        ? 0
        : processCpu(postmaster, true) +
          childPids(postmaster).reduce((sum, pid) => sum + processCpu(pid, false), 0),
  };
}

const GNU_TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<Timed> {
  const started = process.hrtime.bigint();
  const before = serverCpu();
  const timeFile = GNU_TIME
    ? join(tmpdir(), `synter-bench-time-${process.pid}-${started}`)
    : undefined;
  const [file, argv] = timeFile
    ? [GNU_TIME!, ["-f", "%U %S", "-o", timeFile, command, ...args]]
    : [command, args];
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, {
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
    child.on("exit", (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const after = serverCpu();
      let client: number | undefined;
      if (timeFile) {
        const times = readFileSync(timeFile, "utf8").trim().split("\n").pop()!.split(" ");
        client = Number(times[0]) + Number(times[1]);
        rmSync(timeFile, { force: true });
      }
      const cpu = {
        client,
        mariadb: after.mariadb - before.mariadb,
        postgres: after.postgres - before.postgres,
      };
      resolve({ seconds, code, stderr, cpu });
    });
  });
}

/** Per step: wall time and CPU-seconds per process, for the table "where the time went". */
const steps: { label: string; seconds: number; cpu: CpuSplit }[] = [];

function record(label: string, timed: { seconds: number; cpu: CpuSplit }): void {
  steps.push({ label, seconds: timed.seconds, cpu: timed.cpu });
  const client = timed.cpu.client === undefined ? "" : `client ${timed.cpu.client.toFixed(1)}, `;
  process.stderr.write(
    `${label}: ${timed.seconds.toFixed(1)} s; CPU-s ${client}MariaDB ${timed.cpu.mariadb.toFixed(1)}, Postgres ${timed.cpu.postgres.toFixed(1)}\n`,
  );
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

interface SynterRun {
  readonly seconds: number;
  readonly peakRssMb: number;
}

/** One `synter-infra data migrate` process, timed, with its peak RSS (main thread and workers). */
async function runSynter(work: string, label: string, args: readonly string[]): Promise<SynterRun> {
  const rssFile = join(work, `maxrss-${label}`);
  const cli = process.env.SYNTER_BENCH_CLI ?? join(ROOT, "bin", "synter-infra.js");
  const extra = process.env.SYNTER_BENCH_MIGRATE_ARGS?.split(" ").filter(Boolean) ?? [];
  const tool = await run(
    process.execPath,
    [
      ...(process.env.SYNTER_BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
      "--require",
      join(__dirname, "report-max-rss.js"),
      cli,
      "data",
      "migrate",
      ...args,
      ...extra,
    ],
    { SYNTER_MAXRSS_FILE: rssFile },
  );
  if (tool.code !== 0)
    throw new Error(
      `synter-infra data migrate (${label}) failed (${tool.code}):\n${tool.stderr.slice(-4000)}`,
    );
  const tables = args.includes("--tables")
    ? args[args.indexOf("--tables") + 1].split(",").length
    : 10;
  const verified = (tool.stderr.match(/^verify .*: ok/gm) ?? []).length;
  if (verified !== tables && !extra.includes("--no-verify"))
    throw new Error(`expected ${tables} verified tables (${label}):\n${tool.stderr.slice(-4000)}`);
  const peakRssMb = Number(readFileSync(rssFile, "utf8")) / 1024;
  record(`synter-infra data migrate (${label}), peak RSS ${peakRssMb.toFixed(0)} MB`, tool);
  if (label === "whole") {
    // The tool's own summary: per-table times, copy vs verification.
    const summaryStart = tool.stderr.indexOf("table ");
    if (summaryStart >= 0)
      process.stderr.write(tool.stderr.slice(summaryStart).replace(/^verify .*\n/gm, ""));
  }
  return { seconds: tool.seconds, peakRssMb };
}

/**
 * pgloader from the legacy database into `target` (it creates its own tables), only `tables` when
 * given. pgloader copies MariaDB's `DEFAULT current_timestamp(6)` as a quoted literal, which
 * Postgres rejects (the whole run then fails, yet pgloader exits 0): drop those defaults by a CAST
 * rule. Its default batches exhaust SBCL's heap on a million rows of this width ("Heap exhausted
 * during garbage collection"): smaller prefetch and batches keep it alive.
 */
async function runPgloader(
  work: string,
  source: string,
  target: string,
  label: string,
  tables?: readonly string[],
): Promise<number> {
  const loadFile = join(work, `pgloader-${label}.load`);
  const only = tables
    ? `\n INCLUDING ONLY TABLE NAMES MATCHING ${tables.map((t) => `'${t}'`).join(", ")}`
    : "";
  writeFileSync(
    loadFile,
    `LOAD DATABASE FROM ${source} INTO ${target}
 WITH include drop, create tables, create indexes, reset sequences, foreign keys,
      workers = 2, concurrency = 1, prefetch rows = 10000, batch rows = 10000
 CAST type datetime to timestamptz drop default using zero-dates-to-null${only};\n`,
  );
  const loader = await run("pgloader", ["--no-ssl-cert-verification", loadFile]);
  if (loader.code !== 0)
    throw new Error(`pgloader (${label}) failed (${loader.code}):\n${loader.stderr.slice(-4000)}`);
  if (process.env.SYNTER_BENCH_DEBUG) process.stderr.write(loader.stderr);
  record(`pgloader (${label})`, loader);
  return loader.seconds;
}

/** The mysql client's arguments for the benchmark's source (password through MYSQL_PWD). */
function mysqlClient(port: number, sql: string): string {
  return `mysql --batch --quick --skip-column-names -h 127.0.0.1 -P ${port} -u bench legacy -e ${shellQuote(sql)}`;
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Shell pipelines started together; the wall time until the last one ends. */
async function runPipelines(pipelines: readonly string[], label: string): Promise<number> {
  const started = process.hrtime.bigint();
  const before = serverCpu();
  const runs = await Promise.all(
    pipelines.map((p) => run("bash", ["-o", "pipefail", "-c", p], { MYSQL_PWD: "bench" })),
  );
  const failed = runs.find((r) => r.code !== 0);
  if (failed) throw new Error(`${label} failed (${failed.code}):\n${failed.stderr.slice(-4000)}`);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const after = serverCpu();
  const clients = runs.map((r) => r.cpu.client);
  record(label, {
    seconds,
    cpu: {
      client: clients.includes(undefined) ? undefined : clients.reduce((a, b) => a! + b!, 0),
      mariadb: after.mariadb - before.mariadb,
      postgres: after.postgres - before.postgres,
    },
  });
  return seconds;
}

function selectList(table: MigrationTable): string {
  return table.columns.map((c) => `\`${c.legacy.column}\``).join(", ");
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

async function expectRows(
  url: string,
  schema: string,
  tables: readonly string[],
  counts: Record<string, number>,
  who: string,
): Promise<void> {
  const loaded = await countRows(url, schema);
  for (const table of tables) {
    if (loaded[table] !== counts[table])
      throw new Error(`${who} moved ${loaded[table] ?? 0} of ${counts[table]} ${table} rows`);
  }
}

const rate = (rows: number, seconds: number) => Math.round(rows / seconds);
const ratio = (reference: number, ours: number) => Number((reference / ours).toFixed(3));

async function main(): Promise<void> {
  const events = argument("events", 1_000_000);
  const counts = proportions(events);
  const totalRows = Object.values(counts).reduce((a, b) => a + b, 0);
  const tables = migrationTables();
  const auth = tables.filter((t) => t.target === "postgres");
  const analytics = tables.filter((t) => t.target === "bigquery");
  const rowsOf = (list: readonly MigrationTable[]) =>
    list.reduce((sum, t) => sum + counts[t.legacyTable], 0);
  for (const binary of ["pgloader", "mysql", "psql", "gzip"]) {
    if (!findBinary(binary))
      throw new Error(`the benchmark needs ${binary} (see .ci/run for the Debian packages)`);
  }
  const work = mkdtempSync(join(tmpdir(), "synter-bench-"));
  const [maria, pg] = await Promise.all([startMariaDb(), startEmbeddedPostgres()]);
  try {
    const admin = await createConnection({ uri: maria.url("mysql"), multipleStatements: true });
    await admin.query(
      "CREATE DATABASE legacy; CREATE USER bench@'%' IDENTIFIED BY 'bench'; GRANT ALL ON legacy.* TO bench@'%'",
    );
    await admin.query("USE legacy");
    const started = Date.now();
    for (const table of tables) await admin.query(renderLegacyDdl(table));
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
    servers.mariadbPid = pidOf(maria.socket);
    servers.postmasterPid = pidOf(pg.dataDir);

    const runs = argument("runs", 1);
    const summary: { auth: number; analytics: number; whole: number; peakRssMb: number }[] = [];
    for (let runIndex = 1; runIndex <= runs; runIndex++) {
      const tag = runs > 1 ? `_${runIndex}` : "";
      const runDir = join(work, `run${runIndex}`);
      mkdirSync(runDir);
      steps.length = 0;
      if (runs > 1) process.stdout.write(`run ${runIndex} of ${runs}\n`);
      // The read floor first: it also warms MariaDB's buffer pool, so every run after it reads
      // from memory alike.
      const readFloor = await runPipelines(
        tables.map(
          (t) =>
            `${mysqlClient(maria.port, `SELECT ${selectList(t)} FROM \`${t.legacyTable}\``)} > /dev/null`,
        ),
        "read floor (mysql --batch > /dev/null, ten tables in parallel)",
      );

      // Equal work, auth: the five Postgres tables by this tool, by pgloader, by a plain COPY.
      const authNames = auth.map((t) => t.name);
      const oursAuth = await pg.createDatabase(`synter_auth${tag}`);
      await createAuthSchema(oursAuth);
      const synterAuth = await runSynter(runDir, "auth", [
        "--source",
        source,
        "--postgres",
        oursAuth,
        "--tables",
        authNames.join(","),
        "--state-dir",
        join(runDir, "state-auth"),
      ]);
      await expectRows(oursAuth, "public", authNames, counts, "synter-infra (auth)");
      await settlePostgres(oursAuth);
      const theirsAuth = await pg.createDatabase(`pgloader_auth${tag}`);
      const pgloaderAuth = await runPgloader(
        work,
        source,
        theirsAuth,
        "auth",
        auth.map((t) => t.legacyTable),
      );
      await expectRows(
        theirsAuth,
        "legacy",
        auth.map((t) => t.legacyTable),
        counts,
        "pgloader (auth)",
      );
      await settlePostgres(theirsAuth);
      const copyAuth = await pg.createDatabase(`copy_auth${tag}`);
      await createAuthSchema(copyAuth);
      const copyStarted = process.hrtime.bigint();
      for (const t of auth) {
        // mysql --batch escapes tab, newline and backslash as COPY's text format does; NULL is `NULL`.
        const columns = t.columns.map((c) => `"${c.name}"`).join(", ");
        await runPipelines(
          [
            `${mysqlClient(maria.port, `SELECT ${selectList(t)} FROM \`${t.legacyTable}\``)} | ` +
              `psql -q -v ON_ERROR_STOP=1 ${shellQuote(copyAuth)} -c ${shellQuote(`\\copy "${t.name}" (${columns}) FROM STDIN WITH (NULL 'NULL')`)}`,
          ],
          `plain COPY ${t.name}`,
        );
      }
      const plainCopyAuth = Number(process.hrtime.bigint() - copyStarted) / 1e9;
      await expectRows(copyAuth, "public", authNames, counts, "mysql | psql COPY (auth)");
      await settlePostgres(copyAuth);

      // Equal work, analytics: the five BigQuery tables into gzip files, by this tool and by the
      // floor: the mysql client's tab-separated rows through gzip -1, all five at once.
      const analyticsNames = analytics.map((t) => t.name);
      const synterAnalytics = await runSynter(runDir, "analytics", [
        "--source",
        source,
        "--out",
        join(runDir, "out-analytics"),
        "--tables",
        analyticsNames.join(","),
      ]);
      const floorDir = join(runDir, "floor");
      mkdirSync(floorDir);
      const gzipFloor = await runPipelines(
        analytics.map(
          (t) =>
            `${mysqlClient(maria.port, `SELECT ${selectList(t)} FROM \`${t.legacyTable}\``)} | gzip -1 > ${join(floorDir, `${t.name}.tsv.gz`)}`,
        ),
        "analytics floor (mysql --batch | gzip -1, five tables in parallel)",
      );

      // The whole run against pgloader, as before the split.
      const ours = await pg.createDatabase(`synter${tag}`);
      await createAuthSchema(ours);
      const whole = await runSynter(runDir, "whole", [
        "--source",
        source,
        "--postgres",
        ours,
        "--out",
        join(runDir, "out"),
      ]);
      await expectRows(ours, "public", authNames, counts, "synter-infra");
      await settlePostgres(ours);
      const theirs = await pg.createDatabase(`pgloader${tag}`);
      const pgloaderWhole = await runPgloader(runDir, source, theirs, "whole");
      await expectRows(theirs, "legacy", Object.keys(counts), counts, "pgloader");
      // Left as it is, Postgres would vacuum pgloader's 1.6M rows during the next run's first
      // timed step (this tool's auth tables).
      await settlePostgres(theirs);

      const authRows = rowsOf(auth);
      const analyticsRows = rowsOf(analytics);
      const peakRssMb = Math.max(synterAuth.peakRssMb, synterAnalytics.peakRssMb, whole.peakRssMb);
      const table = [
        ["work", "synter-infra (verify on)", "reference, same run", "ratio"],
        [
          `auth tables → Postgres (${authRows} rows)`,
          `${synterAuth.seconds.toFixed(2)} s, ${rate(authRows, synterAuth.seconds)} rows/s`,
          `pgloader, same tables: ${pgloaderAuth.toFixed(2)} s, ${rate(authRows, pgloaderAuth)} rows/s`,
          ratio(pgloaderAuth, synterAuth.seconds).toFixed(2),
        ],
        [
          `analytics → gzip files (${analyticsRows} rows)`,
          `${synterAnalytics.seconds.toFixed(2)} s, ${rate(analyticsRows, synterAnalytics.seconds)} rows/s`,
          `mysql --batch | gzip -1: ${gzipFloor.toFixed(2)} s, ${rate(analyticsRows, gzipFloor)} rows/s`,
          `${ratio(gzipFloor, synterAnalytics.seconds).toFixed(2)} of the floor`,
        ],
        [
          `whole run (${totalRows} rows)`,
          `${whole.seconds.toFixed(2)} s, ${rate(totalRows, whole.seconds)} rows/s`,
          `pgloader, all tables: ${pgloaderWhole.toFixed(2)} s, ${rate(totalRows, pgloaderWhole)} rows/s`,
          ratio(pgloaderWhole, whole.seconds).toFixed(2),
        ],
        [
          "reading alone",
          "—",
          `mysql --batch > /dev/null, ten tables: ${readFloor.toFixed(2)} s, ${rate(totalRows, readFloor)} rows/s`,
          "—",
        ],
        [
          "auth by plain COPY",
          "—",
          `mysql --batch | psql COPY, FK order: ${plainCopyAuth.toFixed(2)} s, ${rate(authRows, plainCopyAuth)} rows/s`,
          "—",
        ],
      ];
      const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
      process.stdout.write(
        `${table.map((row) => `| ${row.map((cell, i) => cell.padEnd(widths[i])).join(" | ")} |`).join("\n")}\n`,
      );
      process.stdout.write(
        `peak RSS: ${peakRssMb.toFixed(0)} MB (auth ${synterAuth.peakRssMb.toFixed(0)}, analytics ${synterAnalytics.peakRssMb.toFixed(0)}, whole ${whole.peakRssMb.toFixed(0)})\n`,
      );
      process.stdout.write("where the time went (CPU-seconds per process, during each step):\n");
      for (const step of steps) {
        const client = step.cpu.client === undefined ? "?" : step.cpu.client.toFixed(1);
        process.stdout.write(
          `  ${step.label.padEnd(72)} ${step.seconds.toFixed(2).padStart(6)} s wall; client ${client.padStart(5)}, MariaDB ${step.cpu.mariadb.toFixed(1).padStart(5)}, Postgres ${step.cpu.postgres.toFixed(1).padStart(5)}\n`,
        );
      }
      const toolRate = totalRows / whole.seconds;
      const loaderRate = totalRows / pgloaderWhole;
      process.stdout.write(
        `${JSON.stringify({
          rows: totalRows,
          events,
          synter: { seconds: whole.seconds, rowsPerSecond: toolRate, peakRssMb: whole.peakRssMb },
          pgloader: { seconds: pgloaderWhole, rowsPerSecond: loaderRate },
          ratio: toolRate / loaderRate,
          split: {
            auth: {
              rows: authRows,
              synterSeconds: synterAuth.seconds,
              pgloaderSeconds: pgloaderAuth,
              plainCopySeconds: plainCopyAuth,
              ratio: ratio(pgloaderAuth, synterAuth.seconds),
              peakRssMb: synterAuth.peakRssMb,
            },
            analytics: {
              rows: analyticsRows,
              synterSeconds: synterAnalytics.seconds,
              floorSeconds: gzipFloor,
              ratio: ratio(gzipFloor, synterAnalytics.seconds),
              peakRssMb: synterAnalytics.peakRssMb,
            },
            readFloorSeconds: readFloor,
          },
        })}\n`,
      );
      summary.push({
        auth: ratio(pgloaderAuth, synterAuth.seconds),
        analytics: ratio(gzipFloor, synterAnalytics.seconds),
        whole: ratio(pgloaderWhole, whole.seconds),
        peakRssMb,
      });
      // The next run starts from empty targets and an empty disk, as this one did.
      for (const database of ["synter_auth", "pgloader_auth", "copy_auth", "synter", "pgloader"]) {
        await dropDatabase(pg.url(), `${database}${tag}`);
      }
      rmSync(runDir, { recursive: true, force: true });
    }
    if (runs > 1) {
      const range = (values: number[], digits = 2) =>
        `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;
      process.stdout.write(
        `${runs} runs: auth ${range(summary.map((r) => r.auth))} of pgloader, analytics ${range(summary.map((r) => r.analytics))} of the floor, ` +
          `whole ${range(summary.map((r) => r.whole))} of pgloader, peak RSS ${range(
            summary.map((r) => r.peakRssMb),
            0,
          )} MB\n`,
      );
    }
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
