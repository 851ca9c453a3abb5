/**
 * A small sample dataset for the local environment, loaded as the app role through the same
 * kind of statements the API runs. Idempotent: every insert names the unique key it may collide
 * with, so a second run adds nothing. One email is mixed-case, to try the case-insensitive sign-in
 * (`WHERE email = 'bob.builder@example.com'` finds it).
 */
import type { Client } from "pg";

export interface SampleUser {
  readonly email: string;
  readonly name: string;
  readonly role: "admin" | "analyst" | "viewer";
  /** Not a real hash of anything: local sample users sign in through magic links or sessions. */
  readonly passwordHash: string | null;
}

export const sampleUsers: readonly SampleUser[] = [
  { email: "ann@example.com", name: "Ann Admin", role: "admin", passwordHash: null },
  { email: "Bob.Builder@Example.com", name: "Bob Builder", role: "analyst", passwordHash: null },
  { email: "carol@example.com", name: "Carol Viewer", role: "viewer", passwordHash: null },
];

/** Session tokens are 64 hex characters; these are recognisably fake. */
export const sampleSessions: readonly { readonly email: string; readonly token: string }[] = [
  { email: "ann@example.com", token: "a".repeat(64) },
  { email: "bob.builder@example.com", token: "b".repeat(64) },
];

export const sampleCampaignPolicies = [
  {
    platform: "google",
    accountId: "123-456-7890",
    campaignId: "g-brand-001",
    targetCac: "40.00",
    maxCac: "60.00",
    minBudget: "10.00",
    maxBudget: "250.00",
  },
  {
    platform: "reddit",
    accountId: "t2_sample",
    campaignId: "r-launch-002",
    targetCac: "25.50",
    maxCac: "35.00",
    minBudget: "5.00",
    maxBudget: "100.00",
  },
] as const;

export interface SampleDataCounts {
  readonly users: number;
  readonly sessions: number;
  readonly campaignPolicies: number;
}

/** Inserts what is missing; returns how many rows of each kind this run added. */
export async function loadSampleData(client: Client): Promise<SampleDataCounts> {
  await client.query("BEGIN");
  try {
    let users = 0;
    for (const user of sampleUsers) {
      const result = await client.query(
        `INSERT INTO users (email, password_hash, name, role) VALUES ($1, $2, $3, $4)
         ON CONFLICT (email) DO NOTHING`,
        [user.email, user.passwordHash, user.name, user.role],
      );
      users += result.rowCount ?? 0;
    }
    let sessions = 0;
    for (const session of sampleSessions) {
      const result = await client.query(
        `INSERT INTO sessions (user_id, session_token, expires_at, user_agent, ip)
         SELECT id, $2, now() + interval '30 days', 'synter-local sample', '127.0.0.1'
           FROM users WHERE email = $1
         ON CONFLICT (session_token) DO NOTHING`,
        [session.email, session.token],
      );
      sessions += result.rowCount ?? 0;
    }
    let campaignPolicies = 0;
    for (const p of sampleCampaignPolicies) {
      const result = await client.query(
        `INSERT INTO campaign_policies
           (platform, account_id, campaign_id, target_cac, max_cac, min_budget, max_budget)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (platform, account_id, campaign_id) DO NOTHING`,
        [p.platform, p.accountId, p.campaignId, p.targetCac, p.maxCac, p.minBudget, p.maxBudget],
      );
      campaignPolicies += result.rowCount ?? 0;
    }
    await client.query("COMMIT");
    return { users, sessions, campaignPolicies };
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  }
}
