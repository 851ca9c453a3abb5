/**
 * The analytics tables of BigQuery dataset `synter_analytics` (DESIGN §4), each column with the
 * legacy SingleStore column it is loaded from. Type mapping: BIGINT → INTEGER, VARCHAR/CHAR/TEXT/
 * ENUM → STRING, DECIMAL(18,6) → NUMERIC, DATETIME(6) → TIMESTAMP (UTC, µs kept), DATE → DATE,
 * BOOLEAN → BOOLEAN, JSON → JSON; NOT NULL → REQUIRED except the auto-increment `id`.
 */
import { bq, bigQueryTable, type BigQueryTable } from "./dsl/bigquery";
import { my } from "./dsl/legacy";

export const AD_PLATFORMS = ["google", "reddit", "x"] as const;
export const TOUCH_PLATFORMS = ["google", "reddit", "x", "other"] as const;

/**
 * `id` is NULLABLE on purpose: BigQuery has no sequences, and the workers insert `ad_metrics` and
 * `touchpoints` without one. Migrated rows keep their legacy id.
 */
const legacyId = () =>
  bq
    .int64()
    .describe("Legacy auto-increment id; kept for migrated rows, absent on rows written since.")
    .from(my.bigint().notNull().autoIncrement());

const utmColumns = () => ({
  utm_source: bq.string().describe("utm_source query parameter.").from(my.varchar(128)),
  utm_medium: bq.string().describe("utm_medium query parameter.").from(my.varchar(128)),
  utm_campaign: bq
    .string()
    .describe("utm_campaign query parameter; campaigns tag it with the platform's campaign id.")
    .from(my.varchar(256)),
  utm_term: bq.string().describe("utm_term query parameter.").from(my.varchar(256)),
  utm_content: bq.string().describe("utm_content query parameter.").from(my.varchar(256)),
});

export const events = bigQueryTable(
  "events",
  {
    id: legacyId(),
    event_name: bq
      .string()
      .required()
      .describe("Event name, e.g. page_view or purchase.")
      .from(my.varchar(128).notNull()),
    ts: bq
      .timestamp()
      .required()
      .describe("When the event happened (UTC, microseconds).")
      .from(my.datetime(6).notNull()),
    user_id: bq.string().describe("Signed-in user id, when known.").from(my.varchar(128)),
    anonymous_id: bq
      .string()
      .describe("Anonymous visitor id from the tracking cookie.")
      .from(my.varchar(128)),
    session_id: bq.string().describe("Browser session id.").from(my.varchar(128)),
    ...utmColumns(),
    gclid: bq.string().describe("Google Ads click id.").from(my.varchar(128)),
    gbraid: bq.string().describe("Google Ads app-to-web click id (iOS).").from(my.varchar(128)),
    wbraid: bq.string().describe("Google Ads web-to-app click id (iOS).").from(my.varchar(128)),
    rdt_cid: bq.string().describe("Reddit Ads click id.").from(my.varchar(128)),
    twclid: bq.string().describe("X (Twitter) Ads click id.").from(my.varchar(128)),
    referrer: bq.string().describe("HTTP referrer.").from(my.text()),
    revenue: bq
      .numeric()
      .describe("Revenue carried by the event, exact to 6 decimals.")
      .from(my.decimal(18, 6)),
    currency: bq.string().describe("ISO 4217 currency of revenue.").from(my.char(3)),
    properties: bq.json().describe("Free-form event properties.").from(my.json()),
  },
  {
    description: "Raw tracking events from the web and server SDKs.",
    partitionBy: "ts",
    clusterBy: ["event_name", "user_id"],
    legacy: { table: "events", keys: ["PRIMARY KEY (id)", "KEY events_ts (ts)"] },
  },
);

export const ad_metrics = bigQueryTable(
  "ad_metrics",
  {
    id: legacyId(),
    platform: bq
      .string()
      .required()
      .oneOf(AD_PLATFORMS)
      .describe("Ad platform: google, reddit or x.")
      .from(my.enum(AD_PLATFORMS).notNull()),
    date: bq
      .date()
      .required()
      .describe("Reporting day, in the ad account's time zone.")
      .from(my.date().notNull()),
    account_id: bq
      .string()
      .required()
      .describe("Ad account id on the platform.")
      .from(my.varchar(64).notNull()),
    campaign_id: bq
      .string()
      .required()
      .describe("Campaign id on the platform.")
      .from(my.varchar(128).notNull()),
    adgroup_id: bq.string().describe("Ad group (ad set) id on the platform.").from(my.varchar(128)),
    ad_id: bq.string().describe("Ad id on the platform.").from(my.varchar(128)),
    impressions: bq
      .int64()
      .describe("Impressions reported by the platform.")
      .from(my.bigint().default(0)),
    clicks: bq.int64().describe("Clicks reported by the platform.").from(my.bigint().default(0)),
    conversions: bq
      .int64()
      .describe("Conversions reported by the platform.")
      .from(my.bigint().default(0)),
    spend: bq
      .numeric()
      .describe("Spend in the account currency, exact to 6 decimals.")
      .from(my.decimal(18, 6).default(0)),
    revenue: bq
      .numeric()
      .describe("Conversion value reported by the platform.")
      .from(my.decimal(18, 6).default(0)),
    raw: bq.json().describe("The platform's raw report row.").from(my.json()),
    ingested_at: bq
      .timestamp()
      .defaultExpression("CURRENT_TIMESTAMP()")
      .describe(
        "When the row was written. Rows are appended, not upserted: readers keep the latest per natural key.",
      ),
  },
  {
    description:
      "Daily ad platform metrics. Natural key (platform, date, account_id, campaign_id, adgroup_id, ad_id); re-ingested rows are appended, so count each key once (latest ingested_at wins).",
    partitionBy: "date",
    clusterBy: ["platform", "account_id", "campaign_id"],
    legacy: {
      table: "ad_metrics",
      keys: [
        "PRIMARY KEY (id)",
        "UNIQUE KEY ad_metrics_natural_key (platform, date, account_id, campaign_id, adgroup_id, ad_id)",
      ],
    },
  },
);

export const conversions = bigQueryTable(
  "conversions",
  {
    id: legacyId(),
    event_id: bq
      .int64()
      .required()
      .describe("The events.id that produced the conversion.")
      .from(my.bigint().notNull()),
    user_id: bq.string().describe("User who converted.").from(my.varchar(128)),
    ts: bq
      .timestamp()
      .required()
      .describe("Conversion time (UTC, microseconds).")
      .from(my.datetime(6).notNull()),
    event_name: bq
      .string()
      .required()
      .describe("Conversion event name, e.g. purchase or signup.")
      .from(my.varchar(128).notNull()),
    value: bq.numeric().describe("Conversion value, exact to 6 decimals.").from(my.decimal(18, 6)),
    currency: bq.string().describe("ISO 4217 currency of value.").from(my.char(3)),
  },
  {
    description: "Conversions derived from events.",
    partitionBy: "ts",
    clusterBy: ["user_id", "event_name"],
    legacy: { table: "conversions", keys: ["PRIMARY KEY (id)"] },
  },
);

export const touchpoints = bigQueryTable(
  "touchpoints",
  {
    id: legacyId(),
    user_id: bq.string().describe("User the touch belongs to.").from(my.varchar(128)),
    ts: bq
      .timestamp()
      .required()
      .describe("Touch time (UTC, microseconds).")
      .from(my.datetime(6).notNull()),
    platform: bq
      .string()
      .required()
      .oneOf(TOUCH_PLATFORMS)
      .describe("Platform: google, reddit, x or other.")
      .from(my.enum(TOUCH_PLATFORMS).notNull()),
    campaign: bq
      .string()
      .describe(
        "Campaign, taken from the event's utm_campaign (the platform's campaign id when tagged so).",
      )
      .from(my.varchar(256)),
    adgroup: bq.string().describe("Ad group.").from(my.varchar(256)),
    ad_id: bq.string().describe("Ad id.").from(my.varchar(128)),
    medium: bq.string().describe("Marketing medium (cpc, social, direct…).").from(my.varchar(64)),
    source: bq.string().describe("Traffic source.").from(my.varchar(128)),
    gclid: bq.string().describe("Google Ads click id.").from(my.varchar(128)),
    rdt_cid: bq.string().describe("Reddit Ads click id.").from(my.varchar(128)),
    twclid: bq.string().describe("X (Twitter) Ads click id.").from(my.varchar(128)),
    ...utmColumns(),
    properties: bq.json().describe("Free-form touch properties.").from(my.json()),
  },
  {
    description:
      "Marketing touches derived from recent events; the input of the attribution views.",
    partitionBy: "ts",
    clusterBy: ["user_id", "platform"],
    legacy: {
      table: "touchpoints",
      keys: ["PRIMARY KEY (id)", "KEY touchpoints_user_ts (user_id, ts)"],
    },
  },
);

export const agent_runs = bigQueryTable(
  "agent_runs",
  {
    id: legacyId(),
    agent: bq
      .string()
      .required()
      .describe("Agent (ETL worker) name.")
      .from(my.varchar(64).notNull()),
    run_id: bq
      .string()
      .required()
      .describe("Run id, unique per agent.")
      .from(my.varchar(64).notNull()),
    started_at: bq
      .timestamp()
      .required()
      .describe("Run start (UTC, microseconds).")
      .from(my.datetime(6).notNull()),
    finished_at: bq
      .timestamp()
      .describe("Run end; NULL while running or after a crash.")
      .from(my.datetime(6)),
    ok: bq.bool().describe("Whether the run succeeded.").from(my.boolean()),
    stats: bq.json().describe("Run statistics.").from(my.json()),
    watermark: bq
      .string()
      .describe("Incremental watermark the next run resumes from.")
      .from(my.varchar(64)),
  },
  {
    description: "ETL agent runs, one row per (agent, run_id).",
    partitionBy: "started_at",
    clusterBy: ["agent"],
    legacy: {
      table: "agent_runs",
      keys: ["PRIMARY KEY (id)", "UNIQUE KEY agent_runs_agent_run (agent, run_id)"],
    },
  },
);

/** Every analytics table, keyed by table id (never by position). */
export const analyticsTables = {
  events,
  ad_metrics,
  conversions,
  touchpoints,
  agent_runs,
} as const;
export type AnalyticsTableName = keyof typeof analyticsTables;
export const analyticsTableList: readonly BigQueryTable[] = Object.values(analyticsTables);

export type EventRow = typeof events.$inferRow;
export type AdMetricRow = typeof ad_metrics.$inferRow;
export type ConversionRow = typeof conversions.$inferRow;
export type TouchpointRow = typeof touchpoints.$inferRow;
export type AgentRunRow = typeof agent_runs.$inferRow;
