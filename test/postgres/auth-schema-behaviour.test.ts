/**
 * The migrated schema serves the API's queries of DESIGN §4 unchanged, and behaves as declared:
 * case-insensitive unique email, updated_at maintained on real changes, identity BY DEFAULT,
 * CHECKed enums, cascading foreign keys.
 */
import type { Client } from "pg";
import { runMigrations } from "../../src/migrate";
import { useEmbeddedPostgres } from "../support/embedded-postgres";
import { freshDatabase, withClient } from "./migration-fixtures";

const TOKEN = "a".repeat(64);

describe("the migrated auth schema", () => {
  const server = useEmbeddedPostgres();
  let url = "";

  beforeAll(async () => {
    url = await freshDatabase(server(), "behaviour");
    await runMigrations({ databaseUrl: url });
  });

  // Each test in its own transaction, rolled back: tests do not see each other's rows.
  async function inTransaction(use: (client: Client) => Promise<void>): Promise<void> {
    await withClient(url, async (client) => {
      await client.query("BEGIN");
      try {
        await use(client);
      } finally {
        await client.query("ROLLBACK");
      }
    });
  }

  it("runs the API's statements unchanged: sign-up, sign-in by mixed-case email, session, look-up, sign-out", () =>
    inTransaction(async (db) => {
      const inserted = await db.query(
        "INSERT INTO users (email, password_hash, name, role) VALUES ($1, $2, $3, $4) RETURNING *",
        ["ann@example.com", "hash", "Ann", "analyst"],
      );
      const user = inserted.rows[0];
      expect(Object.keys(user)).toEqual([
        "id",
        "email",
        "password_hash",
        "name",
        "role",
        "created_at",
        "updated_at",
        "is_active",
      ]);
      expect(user).toMatchObject({ email: "ann@example.com", role: "analyst", is_active: true });
      expect(user.created_at).toBeInstanceOf(Date);

      const signIn = await db.query("SELECT * FROM users WHERE email = $1 AND is_active = true", [
        "Ann@Example.COM",
      ]);
      expect(signIn.rows.map((r) => r.id)).toEqual([user.id]);

      const session = await db.query(
        "INSERT INTO sessions (user_id, session_token, expires_at, user_agent, ip) VALUES ($1, $2, $3, $4, $5) RETURNING *",
        [user.id, TOKEN, new Date(Date.now() + 3600_000), "jest", "127.0.0.1"],
      );
      expect(session.rows[0]).toMatchObject({
        user_id: user.id,
        session_token: TOKEN,
        ip: "127.0.0.1",
      });

      const lookup = await db.query(
        `SELECT s.*, u.email, u.role FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE s.session_token = $1 AND s.expires_at > NOW()`,
        [TOKEN],
      );
      expect(lookup.rows.map((r) => [r.email, r.role])).toEqual([["ann@example.com", "analyst"]]);

      await db.query("UPDATE sessions SET expires_at = NOW() - interval '1 second'");
      const expired = await db.query(
        "SELECT s.* FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.session_token = $1 AND s.expires_at > NOW()",
        [TOKEN],
      );
      expect(expired.rowCount).toBe(0);

      const deleted = await db.query("DELETE FROM sessions WHERE session_token = $1", [TOKEN]);
      expect(deleted.rowCount).toBe(1);
    }));

  it("rejects an email that differs from an existing one only in case", () =>
    inTransaction(async (db) => {
      await db.query("INSERT INTO users (email) VALUES ('ann@example.com')");
      await expect(
        db.query("INSERT INTO users (email) VALUES ('ANN@example.com')"),
      ).rejects.toThrow('duplicate key value violates unique constraint "users_email_key"');
    }));

  it("defaults a new user to role viewer and active, and rejects a role outside the legacy ENUM", () =>
    inTransaction(async (db) => {
      const { rows } = await db.query(
        "INSERT INTO users (email) VALUES ('v@example.com') RETURNING role, is_active",
      );
      expect(rows[0]).toEqual({ role: "viewer", is_active: true });
      await expect(
        db.query("INSERT INTO users (email, role) VALUES ('o@example.com', 'owner')"),
      ).rejects.toThrow('violates check constraint "users_role_check"');
    }));

  it("keeps migrated ids (identity BY DEFAULT) and continues after them once the sequence is moved", () =>
    inTransaction(async (db) => {
      await db.query("INSERT INTO users (id, email) VALUES (41, 'legacy@example.com')");
      await db.query(
        "SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users))",
      );
      const { rows } = await db.query(
        "INSERT INTO users (email) VALUES ('new@example.com') RETURNING id",
      );
      expect(rows[0].id).toBe("42");
    }));

  it("moves updated_at on a real change only, like the legacy ON UPDATE", () =>
    inTransaction(async (db) => {
      // now() is the transaction start: commit-free tests need explicit old timestamps instead.
      const { rows } = await db.query(
        `INSERT INTO users (email, created_at, updated_at)
         VALUES ('t@example.com', '2020-01-01T00:00:00Z', '2020-01-01T00:00:00Z') RETURNING id`,
      );
      const id = rows[0].id;
      const updatedAt = async () =>
        (await db.query("SELECT updated_at FROM users WHERE id = $1", [id])).rows[0]
          .updated_at as Date;

      await db.query("UPDATE users SET name = name WHERE id = $1", [id]);
      expect((await updatedAt()).toISOString()).toBe("2020-01-01T00:00:00.000Z");

      await db.query("UPDATE users SET name = 'Tee' WHERE id = $1", [id]);
      const { rows: now } = await db.query("SELECT now() AS now");
      expect((await updatedAt()).toISOString()).toBe((now[0].now as Date).toISOString());

      await db.query(
        `INSERT INTO campaign_policies (platform, account_id, campaign_id, updated_at)
         VALUES ('google', 'a1', 'c1', '2020-01-01T00:00:00Z')`,
      );
      await db.query("UPDATE campaign_policies SET max_cac = 12.5");
      const policy = await db.query(
        "SELECT updated_at, max_cac, min_conversions FROM campaign_policies",
      );
      expect(policy.rows[0]).toEqual({
        updated_at: now[0].now,
        max_cac: "12.50",
        min_conversions: 3,
      });
    }));

  it("cascades deletes from users to sessions, magic links, OAuth accounts and connections (and on to tokens and ad accounts)", () =>
    inTransaction(async (db) => {
      const { rows } = await db.query(
        "INSERT INTO users (email) VALUES ('c@example.com') RETURNING id",
      );
      const userId = rows[0].id;
      await db.query(
        "INSERT INTO sessions (user_id, session_token, expires_at) VALUES ($1, $2, now() + interval '1 day')",
        [userId, TOKEN],
      );
      await db.query(
        "INSERT INTO magic_links (user_id, token, expires_at) VALUES ($1, $2, now() + interval '1 hour')",
        [userId, TOKEN],
      );
      await db.query(
        "INSERT INTO oauth_accounts (user_id, provider, provider_user_id) VALUES ($1, 'google', 'g-1')",
        [userId],
      );
      const connection = await db.query(
        "INSERT INTO oauth_connections (user_id, provider) VALUES ($1, 'reddit') RETURNING id, scopes",
        [userId],
      );
      expect(connection.rows[0].scopes).toEqual([]);
      expect(connection.rows[0].id).toMatch(/^[0-9a-f-]{36}$/);
      const connectionId = connection.rows[0].id;
      await db.query(
        "INSERT INTO oauth_tokens (connection_id, access_token_encrypted) VALUES ($1, $2)",
        [connectionId, Buffer.from([1, 2, 3])],
      );
      await db.query(
        "INSERT INTO ad_accounts (connection_id, platform, external_account_id) VALUES ($1, 'reddit', 't2_abc')",
        [connectionId],
      );

      const counts = async () =>
        (
          await db.query<Record<string, string>>(
            `SELECT (SELECT count(*) FROM sessions) AS sessions, (SELECT count(*) FROM magic_links) AS magic_links,
                    (SELECT count(*) FROM oauth_accounts) AS oauth_accounts,
                    (SELECT count(*) FROM oauth_connections) AS oauth_connections,
                    (SELECT count(*) FROM oauth_tokens) AS oauth_tokens, (SELECT count(*) FROM ad_accounts) AS ad_accounts`,
          )
        ).rows[0];
      expect(await counts()).toEqual({
        sessions: "1",
        magic_links: "1",
        oauth_accounts: "1",
        oauth_connections: "1",
        oauth_tokens: "1",
        ad_accounts: "1",
      });
      await db.query("DELETE FROM users WHERE id = $1", [userId]);
      expect(await counts()).toEqual({
        sessions: "0",
        magic_links: "0",
        oauth_accounts: "0",
        oauth_connections: "0",
        oauth_tokens: "0",
        ad_accounts: "0",
      });
    }));

  it("refuses a session of a user that does not exist, and a second token set per connection", () =>
    inTransaction(async (db) => {
      await db.query("SAVEPOINT s");
      await expect(
        db.query(
          "INSERT INTO sessions (user_id, session_token, expires_at) VALUES (999, $1, now())",
          [TOKEN],
        ),
      ).rejects.toThrow('violates foreign key constraint "sessions_user_id_fkey"');
      await db.query("ROLLBACK TO SAVEPOINT s");
      const { rows } = await db.query(
        "INSERT INTO users (email) VALUES ('d@example.com') RETURNING id",
      );
      const conn = await db.query(
        "INSERT INTO oauth_connections (user_id, provider) VALUES ($1, 'x') RETURNING id",
        [rows[0].id],
      );
      await db.query(
        "INSERT INTO oauth_tokens (connection_id, access_token_encrypted) VALUES ($1, '\\x00')",
        [conn.rows[0].id],
      );
      await expect(
        db.query(
          "INSERT INTO oauth_tokens (connection_id, access_token_encrypted) VALUES ($1, '\\x01')",
          [conn.rows[0].id],
        ),
      ).rejects.toThrow('violates unique constraint "oauth_tokens_connection_id_key"');
    }));
});
