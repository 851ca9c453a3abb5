/**
 * The legacy database for the data migration tests: the ten legacy tables rendered from `schema/`
 * and loaded with hostile values — NULL vs '' vs the text `\N`, backslashes, quotes, commas, tabs,
 * CR/LF, unicode and emoji, JSON with nested quotes and unicode escapes, the extreme DECIMALs,
 * microsecond DATETIMEs and every ENUM value.
 */
import { createConnection, type Connection } from "mysql2/promise";
import { migrationTables, renderLegacyDdl } from "../../src/data/table-plan";

export const HOSTILE_STRINGS: readonly (string | null)[] = [
  null,
  "",
  "\\N",
  "back\\slash \\\\ double",
  "quotes ' \" `",
  "comma, separated, values",
  "tab\there\tand\tthere",
  "line\nfeed and carriage\rreturn and both\r\n",
  "unicode é ü ß 中文 עברית",
  "emoji 😀🎉👍🏽",
  "\\.",
  " trailing spaces  ",
  "NULL",
  "\\t literally",
];

export const HOSTILE_JSON: readonly (string | null)[] = [
  null,
  '{"q": "he said \\"hi\\"", "u": "\\u00e9\\ud83d\\ude00", "nested": {"a": [1, 2.5, -0.0, 1e-7, true, null]}}',
  '{"s": "tab\\tnewline\\nbackslash\\\\ slash\\/", "z": 1, "a": 2}',
  "[]",
  '"just a string with \\" quote"',
  "123456789012345678",
  '{"emoji": "😀", "control": "\\u0001", "empty": "", "k\\"ey": {}}',
  '  {\n  "pretty": [1,\n 2]\n}  ',
];

/** Ten legacy tables with hostile rows; `rows` events (at least 16) and the rest in proportion. */
export async function loadLegacyFixture(url: string, database: string, events = 40): Promise<void> {
  const admin = await createConnection({
    uri: url,
    multipleStatements: true,
    charset: "utf8mb4_unicode_ci",
  });
  try {
    await admin.query(`DROP DATABASE IF EXISTS \`${database}\`; CREATE DATABASE \`${database}\``);
  } finally {
    await admin.end();
  }
  const db = await createConnection({
    uri: url.replace(/\/[^/]*$/, `/${database}`),
    charset: "utf8mb4_unicode_ci",
    multipleStatements: true,
  });
  try {
    await db.query("SET time_zone = '+00:00'");
    for (const table of migrationTables()) await db.query(renderLegacyDdl(table));
    await insertRows(db, events);
  } finally {
    await db.end();
  }
}

const s = (i: number) => HOSTILE_STRINGS[i % HOSTILE_STRINGS.length];
const j = (i: number) => HOSTILE_JSON[i % HOSTILE_JSON.length];
const micro = (i: number) =>
  `2024-0${(i % 9) + 1}-${String((i % 28) + 1).padStart(2, "0")} ${String(i % 24).padStart(2, "0")}:0${i % 10}:5${i % 10}.${String(100000 + i * 7919).slice(-6)}`;
const DECIMALS_18_6 = [
  null,
  "999999999999.999999",
  "-999999999999.999999",
  "0.000001",
  "0.000000",
  "-0.000001",
  "12.500000",
];
const DECIMALS_10_2 = [null, "99999999.99", "-99999999.99", "0.01", "0.00"];

async function insert(
  db: Connection,
  table: string,
  rows: Record<string, unknown>[],
): Promise<void> {
  const columns = Object.keys(rows[0]);
  await db.query(
    `INSERT INTO \`${table}\` (${columns.map((c) => `\`${c}\``).join(", ")}) VALUES ?`,
    [rows.map((r) => columns.map((c) => r[c]))],
  );
}

async function insertRows(db: Connection, events: number): Promise<void> {
  const users = Math.max(6, Math.ceil(events / 4));
  const roles = ["admin", "analyst", "viewer"];
  await insert(
    db,
    "users",
    Array.from({ length: users }, (_, i) => ({
      id: i * 3 + 1, // gaps in the key space, as deletes leave them
      email: i === 0 ? "Ann@Example.com" : `user${i}+${i % 2 ? "tag" : "x"}@example.com`,
      password_hash: [null, "", "\\N", "$2b$12$abc\\def"][i % 4],
      name: s(i),
      role: roles[i % 3],
      created_at: micro(i),
      updated_at: micro(i + 1),
      is_active: [1, 0, null][i % 3],
    })),
  );
  const userId = (i: number) => (i % users) * 3 + 1;
  await insert(
    db,
    "sessions",
    Array.from({ length: users * 2 }, (_, i) => ({
      id: i + 1,
      user_id: userId(i),
      session_token: (i.toString(16) + "f".repeat(64)).slice(0, 64),
      created_at: micro(i),
      expires_at: micro(i + 5),
      user_agent: s(i + 3),
      ip: i % 2 ? "2001:db8::1" : null,
    })),
  );
  await insert(
    db,
    "magic_links",
    Array.from({ length: users }, (_, i) => ({
      id: i + 10,
      user_id: i % 3 === 0 ? null : userId(i),
      token: (`m${i}` + "0".repeat(64)).slice(0, 64),
      created_at: micro(i),
      expires_at: micro(i + 2),
      used_at: i % 2 ? micro(i + 1) : null,
    })),
  );
  await insert(
    db,
    "oauth_accounts",
    Array.from({ length: users }, (_, i) => ({
      id: i + 1,
      user_id: i % 4 === 0 ? null : userId(i),
      provider: ["google", "github", "", null][i % 4],
      provider_user_id: `pid-${i}`,
      access_token: s(i + 5),
      refresh_token: s(i + 6),
      expires_at: i % 3 ? `2025-12-${String((i % 28) + 1).padStart(2, "0")} 23:59:59` : null,
    })),
  );
  await insert(
    db,
    "campaign_policies",
    Array.from({ length: Math.max(6, users) }, (_, i) => ({
      id: i + 1,
      platform: ["google", "reddit", "x"][i % 3],
      account_id: s(i + 1),
      campaign_id: `c-${i}`,
      target_cac: DECIMALS_10_2[i % 5],
      max_cac: DECIMALS_10_2[(i + 1) % 5],
      min_budget: DECIMALS_10_2[(i + 2) % 5],
      max_budget: DECIMALS_10_2[(i + 3) % 5],
      min_conversions: i % 2 ? 3 : 2147483647,
      created_at: micro(i),
      updated_at: micro(i + 3),
    })),
  );
  await insert(
    db,
    "events",
    Array.from({ length: events }, (_, i) => ({
      id: i + 1,
      event_name: i % 2 ? "purchase" : `page_view ${s(i + 1) ?? ""}`,
      ts: micro(i),
      user_id: s(i),
      anonymous_id: `anon-${i}`,
      session_id: s(i + 2),
      utm_source: s(i + 3),
      utm_medium: s(i + 4),
      utm_campaign: s(i + 5),
      utm_term: s(i + 6),
      utm_content: s(i + 7),
      gclid: s(i + 8),
      gbraid: s(i + 9),
      wbraid: s(i + 10),
      rdt_cid: s(i + 11),
      twclid: s(i + 12),
      referrer: s(i + 13),
      revenue: DECIMALS_18_6[i % DECIMALS_18_6.length],
      currency: ["USD", "EUR", null, ""][i % 4],
      properties: j(i),
    })),
  );
  await insert(
    db,
    "ad_metrics",
    Array.from({ length: Math.ceil(events / 2) }, (_, i) => ({
      id: i + 100,
      platform: ["google", "reddit", "x"][i % 3],
      date: `2024-02-${String((i % 29) + 1).padStart(2, "0")}`,
      account_id: `acct ${s(i + 1) ?? "none"}`,
      campaign_id: `camp-${i}`,
      adgroup_id: s(i),
      ad_id: s(i + 2),
      impressions: i === 0 ? "9223372036854775807" : String(i * 1000),
      clicks: i === 1 ? "-9223372036854775808" : i % 3 ? String(i) : null,
      conversions: i,
      spend: DECIMALS_18_6[i % DECIMALS_18_6.length],
      revenue: DECIMALS_18_6[(i + 3) % DECIMALS_18_6.length],
      raw: j(i + 1),
    })),
  );
  await insert(
    db,
    "conversions",
    Array.from({ length: Math.ceil(events / 3) }, (_, i) => ({
      id: i + 1,
      event_id: i * 2 + 1,
      user_id: s(i),
      ts: micro(i + 1),
      event_name: i % 2 ? "signup" : "purchase",
      value: DECIMALS_18_6[i % DECIMALS_18_6.length],
      currency: i % 2 ? "USD" : null,
    })),
  );
  await insert(
    db,
    "touchpoints",
    Array.from({ length: Math.ceil(events / 2) }, (_, i) => ({
      id: i + 1,
      user_id: s(i),
      ts: micro(i),
      platform: ["google", "reddit", "x", "other"][i % 4],
      campaign: s(i + 1),
      adgroup: s(i + 2),
      ad_id: s(i + 3),
      medium: ["cpc", "social", "direct", null][i % 4],
      source: s(i + 4),
      gclid: s(i + 5),
      rdt_cid: s(i + 6),
      twclid: s(i + 7),
      utm_source: s(i + 8),
      utm_medium: s(i + 9),
      utm_campaign: s(i + 10),
      utm_term: s(i + 11),
      utm_content: s(i + 12),
      properties: j(i + 2),
    })),
  );
  await insert(
    db,
    "agent_runs",
    Array.from({ length: Math.max(8, Math.ceil(events / 4)) }, (_, i) => ({
      id: i + 1,
      agent: ["google-ads", "reddit-ads", "x-ads"][i % 3],
      run_id: `run-${i}`,
      started_at: micro(i),
      finished_at: i % 3 ? micro(i + 1) : null,
      ok: [1, 0, null][i % 3],
      stats: j(i + 3),
      watermark: s(i),
    })),
  );
}

/** Rows that cannot be converted losslessly; inserted the way a non-strict legacy server lets them in. */
export async function insertBadRows(
  url: string,
  database: string,
): Promise<{ table: string; key: string }[]> {
  const db = await createConnection({
    uri: url.replace(/\/[^/]*$/, `/${database}`),
    charset: "utf8mb4_unicode_ci",
  });
  try {
    // Non-strict mode stores an unknown ENUM value as '' and accepts zero dates; the JSON CHECK
    // (json_valid) can be switched off per session, as SingleStore never had it.
    await db.query("SET SESSION sql_mode = '', SESSION check_constraint_checks = 0");
    await db.query(
      "INSERT INTO touchpoints (id, ts, platform) VALUES (1000, '2024-01-01 00:00:00', 'tiktok')",
    );
    await db.query(
      "INSERT INTO events (id, event_name, ts) VALUES (1000, 'zero', '0000-00-00 00:00:00')",
    );
    await db.query(
      "INSERT INTO agent_runs (id, agent, run_id, started_at, stats) VALUES (1000, 'a', 'r', '2024-01-01 00:00:00', '{\"broken\": ')",
    );
    await db.query(
      "INSERT INTO users (id, email, role) VALUES (1000, 'bad-role@example.com', 'root')",
    );
  } finally {
    await db.end();
  }
  return [
    { table: "users", key: "1000" },
    { table: "events", key: "1000" },
    { table: "touchpoints", key: "1000" },
    { table: "agent_runs", key: "1000" },
  ];
}

export async function openLegacy(url: string, database: string): Promise<Connection> {
  return createConnection({
    uri: url.replace(/\/[^/]*$/, `/${database}`),
    charset: "utf8mb4_unicode_ci",
  });
}
