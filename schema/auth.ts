/**
 * The auth tables of PostgreSQL database `synter` (DESIGN §4): the desired state the migrations
 * build and `migrate verify` checks. Legacy nullability is kept so every legacy value fits;
 * legacy ENUMs become text + CHECK; DATETIME(6) becomes timestamptz (the legacy values are UTC).
 */
import { pg, pgTable, type PgTable } from "./dsl/postgres";
import { my } from "./dsl/legacy";
import { AD_PLATFORMS } from "./analytics";

export const USER_ROLES = ["admin", "analyst", "viewer"] as const;

const legacyId = () =>
  pg
    .bigint()
    .identity()
    .describe("Identity (BY DEFAULT): migrated rows keep their legacy id.")
    .from(my.bigint().notNull().autoIncrement());
const createdAt = () =>
  pg
    .timestamptz()
    .default("now()")
    .describe("Row creation time.")
    .from(my.datetime(6).defaultNow());
const updatedAt = () =>
  pg
    .timestamptz()
    .default("now()")
    .describe("Last update time, maintained by a trigger as the legacy ON UPDATE did.")
    .from(my.datetime(6).defaultNow().onUpdateNow());
const nativeTimestamp = (description: string) =>
  pg.timestamptz().notNull().default("now()").describe(description);
const userReference = () => pg.bigint().references("users", "id", "cascade");

export const users = pgTable(
  "users",
  {
    id: legacyId(),
    // citext: `WHERE email = $1` (unchanged API query) compares case-insensitively, and the unique
    // constraint rejects `Ann@Example.com` beside `ann@example.com`, as SingleStore's collation did.
    email: pg
      .citext()
      .notNull()
      .unique()
      .describe("Sign-in email, unique case-insensitively.")
      .from(my.varchar(320).notNull()),
    password_hash: pg
      .varchar(255)
      .describe("Password hash; NULL for passwordless users.")
      .from(my.varchar(255)),
    name: pg.varchar(128).describe("Display name.").from(my.varchar(128)),
    role: pg
      .text()
      .default("'viewer'::text")
      .oneOf(USER_ROLES)
      .describe("admin, analyst or viewer.")
      .from(my.enum(USER_ROLES).default("viewer")),
    created_at: createdAt(),
    updated_at: updatedAt(),
    is_active: pg
      .boolean()
      .default("true")
      .describe("Inactive users cannot sign in.")
      .from(my.boolean().default(true)),
  },
  {
    description: "Application users.",
    legacy: { table: "users", keys: ["PRIMARY KEY (id)", "UNIQUE KEY users_email (email)"] },
    touchOnUpdate: "updated_at",
  },
);

export const sessions = pgTable(
  "sessions",
  {
    id: legacyId(),
    user_id: userReference()
      .notNull()
      .describe("Owner of the session.")
      .from(my.bigint().notNull()),
    session_token: pg
      .char(64)
      .notNull()
      .unique()
      .describe("Opaque session token (64 hex chars).")
      .from(my.char(64).notNull()),
    created_at: createdAt(),
    expires_at: pg
      .timestamptz()
      .notNull()
      .describe("Expiry; expired sessions are purged.")
      .from(my.datetime(6).notNull()),
    user_agent: pg.varchar(255).describe("User agent at sign-in.").from(my.varchar(255)),
    ip: pg.varchar(64).describe("Client IP at sign-in.").from(my.varchar(64)),
  },
  {
    description: "Signed-in sessions.",
    legacy: {
      table: "sessions",
      keys: ["PRIMARY KEY (id)", "UNIQUE KEY sessions_token (session_token)"],
    },
    indexes: [{ columns: ["user_id"] }, { columns: ["expires_at"] }],
  },
);

export const magic_links = pgTable(
  "magic_links",
  {
    id: legacyId(),
    user_id: userReference().describe("User the link signs in.").from(my.bigint()),
    token: pg
      .char(64)
      .notNull()
      .unique()
      .describe("Single-use token (64 hex chars).")
      .from(my.char(64).notNull()),
    created_at: createdAt(),
    expires_at: pg
      .timestamptz()
      .notNull()
      .describe("Expiry of the link.")
      .from(my.datetime(6).notNull()),
    used_at: pg
      .timestamptz()
      .describe("When the link was used; NULL while unused.")
      .from(my.datetime(6)),
  },
  {
    description: "Passwordless sign-in links.",
    legacy: {
      table: "magic_links",
      keys: ["PRIMARY KEY (id)", "UNIQUE KEY magic_links_token (token)"],
    },
    indexes: [{ columns: ["user_id"] }, { columns: ["expires_at"] }],
  },
);

export const oauth_accounts = pgTable(
  "oauth_accounts",
  {
    id: legacyId(),
    user_id: userReference().describe("Linked user.").from(my.bigint()),
    provider: pg.varchar(32).describe("Identity provider, e.g. google.").from(my.varchar(32)),
    provider_user_id: pg.varchar(128).describe("User id at the provider.").from(my.varchar(128)),
    access_token: pg.text().describe("Provider access token.").from(my.text()),
    refresh_token: pg.text().describe("Provider refresh token.").from(my.text()),
    expires_at: pg.timestamptz().describe("Access token expiry.").from(my.datetime()),
  },
  {
    description: "Social sign-in identities linked to users.",
    legacy: {
      table: "oauth_accounts",
      keys: [
        "PRIMARY KEY (id)",
        "UNIQUE KEY oauth_accounts_provider_user (provider, provider_user_id)",
      ],
    },
    uniques: [{ columns: ["provider", "provider_user_id"] }],
    indexes: [{ columns: ["user_id"] }],
  },
);

export const campaign_policies = pgTable(
  "campaign_policies",
  {
    id: legacyId(),
    platform: pg
      .text()
      .notNull()
      .oneOf(AD_PLATFORMS)
      .describe("google, reddit or x.")
      .from(my.enum(AD_PLATFORMS).notNull()),
    account_id: pg.varchar(64).describe("Ad account id.").from(my.varchar(64)),
    campaign_id: pg.varchar(128).describe("Campaign id.").from(my.varchar(128)),
    target_cac: pg
      .numeric(10, 2)
      .describe("Target customer acquisition cost.")
      .from(my.decimal(10, 2)),
    max_cac: pg.numeric(10, 2).describe("Maximum acceptable CAC.").from(my.decimal(10, 2)),
    min_budget: pg.numeric(10, 2).describe("Daily budget floor.").from(my.decimal(10, 2)),
    max_budget: pg.numeric(10, 2).describe("Daily budget ceiling.").from(my.decimal(10, 2)),
    min_conversions: pg
      .integer()
      .default("3")
      .describe("Conversions needed before the policy acts.")
      .from(my.int().default(3)),
    created_at: createdAt(),
    updated_at: updatedAt(),
  },
  {
    description: "Budget and CAC guard-rails per campaign, read by the optimisation agents.",
    legacy: {
      table: "campaign_policies",
      keys: [
        "PRIMARY KEY (id)",
        "UNIQUE KEY campaign_policies_campaign (platform, account_id, campaign_id)",
      ],
    },
    uniques: [{ columns: ["platform", "account_id", "campaign_id"] }],
    touchOnUpdate: "updated_at",
  },
);

export const oauth_connections = pgTable(
  "oauth_connections",
  {
    id: pg.uuid().primaryKey().default("gen_random_uuid()").describe("Connection id."),
    user_id: userReference().notNull().describe("User who connected the ad platform."),
    provider: pg.text().notNull().oneOf(AD_PLATFORMS).describe("Ad platform: google, reddit or x."),
    scopes: pg.textArray().notNull().default("'{}'::text[]").describe("OAuth scopes granted."),
    created_at: nativeTimestamp("Row creation time."),
    updated_at: nativeTimestamp("Last update time, maintained by a trigger."),
  },
  {
    description: "Ad-platform OAuth connections (Postgres-native; no legacy source).",
    uniques: [{ columns: ["user_id", "provider"] }],
    touchOnUpdate: "updated_at",
  },
);

export const oauth_tokens = pgTable(
  "oauth_tokens",
  {
    id: pg.uuid().primaryKey().default("gen_random_uuid()").describe("Token set id."),
    connection_id: pg
      .uuid()
      .notNull()
      .unique()
      .references("oauth_connections", "id", "cascade")
      .describe("Connection the tokens belong to (one set each)."),
    access_token_encrypted: pg.bytea().notNull().describe("Access token, encrypted by the app."),
    refresh_token_encrypted: pg.bytea().describe("Refresh token, encrypted by the app."),
    expires_at: pg.timestamptz().describe("Access token expiry."),
    created_at: nativeTimestamp("Row creation time."),
    updated_at: nativeTimestamp("Last update time, maintained by a trigger."),
  },
  {
    description: "Encrypted OAuth tokens of ad-platform connections.",
    touchOnUpdate: "updated_at",
  },
);

export const ad_accounts = pgTable(
  "ad_accounts",
  {
    id: pg.uuid().primaryKey().default("gen_random_uuid()").describe("Ad account row id."),
    connection_id: pg
      .uuid()
      .notNull()
      .references("oauth_connections", "id", "cascade")
      .describe("Connection that grants access."),
    platform: pg.text().notNull().oneOf(AD_PLATFORMS).describe("google, reddit or x."),
    external_account_id: pg.text().notNull().describe("Account id on the platform."),
    name: pg.text().describe("Account name on the platform."),
    currency: pg.char(3).describe("Account currency (ISO 4217)."),
    created_at: nativeTimestamp("Row creation time."),
    updated_at: nativeTimestamp("Last update time, maintained by a trigger."),
  },
  {
    description: "Ad accounts reachable through a connection.",
    // The unique constraint's leading column also serves the foreign key's look-ups.
    uniques: [{ columns: ["connection_id", "external_account_id"] }],
    touchOnUpdate: "updated_at",
  },
);

/** Every auth table, in foreign-key order (parents first): the order of COPY and of creation. */
export const authTables = {
  users,
  sessions,
  magic_links,
  oauth_accounts,
  campaign_policies,
  oauth_connections,
  oauth_tokens,
  ad_accounts,
} as const;
export type AuthTableName = keyof typeof authTables;
export const authTableList: readonly PgTable[] = Object.values(authTables);

/** Extensions the auth schema needs (citext for email). */
export const requiredExtensions = ["citext"] as const;

export type UserRow = typeof users.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;
