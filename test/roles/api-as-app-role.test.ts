/**
 * The API's statements (DESIGN §4), unchanged, as the app role on the migrated schema — and the
 * limits of that role and the read-only role on the real tables.
 */
import { Client } from "pg";
import { authRoleNames } from "../../schema/roles";
import { provisionAuthDatabase, withClient } from "../../src/local/auth-roles";
import { loadSampleData } from "../../src/local/sample-data";
import { runMigrations } from "../../src/migrate";
import { useEmbeddedPostgres } from "../support/embedded-postgres";

const passwords = { migrator: "m-pw", app: "a-pw", readonly: "r-pw" };
const roles = authRoleNames("synter");

describe("the API as the app role on the migrated schema", () => {
  const server = useEmbeddedPostgres();
  const urlAs = (kind: keyof typeof roles) =>
    `postgres://${roles[kind]}:${passwords[kind]}@${server().host}:${server().port}/synter`;
  // One connection per test: the server's afterAll (registered first) would cut a shared one.
  let app: Client;
  beforeEach(async () => {
    app = new Client({ connectionString: urlAs("app") });
    await app.connect();
  });
  afterEach(async () => {
    await app.end();
  });

  beforeAll(async () => {
    await provisionAuthDatabase((db) => ({ connectionString: server().url(db) }), {
      database: "synter",
      passwords,
    });
    await runMigrations({ databaseUrl: urlAs("migrator") });
  });

  it("signs up, signs in case-insensitively, opens, looks up and deletes a session", async () => {
    const created = await app.query(
      "INSERT INTO users (email, password_hash, name, role) VALUES ($1, $2, $3, $4) RETURNING *",
      ["Dana@Example.com", "$argon2id$v=19$fake", "Dana", "analyst"],
    );
    expect(created.rows[0]).toMatchObject({
      email: "Dana@Example.com",
      role: "analyst",
      is_active: true,
    });
    const userId = created.rows[0].id as string;

    const signIn = await app.query("SELECT * FROM users WHERE email = $1 AND is_active = true", [
      "dana@example.com",
    ]);
    expect(signIn.rows.map((r) => r.id)).toEqual([userId]);

    const token = "d".repeat(64);
    const session = await app.query(
      "INSERT INTO sessions (user_id, session_token, expires_at, user_agent, ip) VALUES ($1, $2, $3, $4, $5) RETURNING *",
      [userId, token, new Date(Date.now() + 3_600_000), "jest", "127.0.0.1"],
    );
    expect(session.rows[0]).toMatchObject({ user_id: userId, session_token: token });

    const lookup = await app.query(
      `SELECT s.*, u.email, u.name, u.role FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.session_token = $1 AND s.expires_at > NOW()`,
      [token],
    );
    expect(lookup.rows.map((r) => r.email)).toEqual(["Dana@Example.com"]);

    const deleted = await app.query("DELETE FROM sessions WHERE session_token = $1", [token]);
    expect(deleted.rowCount).toBe(1);
  });

  it("loads the sample dataset once: a second load adds nothing", async () => {
    expect(await loadSampleData(app)).toEqual({ users: 3, sessions: 2, campaignPolicies: 2 });
    expect(await loadSampleData(app)).toEqual({ users: 0, sessions: 0, campaignPolicies: 0 });
    const bob = await app.query("SELECT name FROM users WHERE email = $1 AND is_active = true", [
      "BOB.builder@example.COM",
    ]);
    expect(bob.rows).toEqual([{ name: "Bob Builder" }]);
  });

  it("cannot create, alter, drop or truncate tables", async () => {
    await expect(app.query("CREATE TABLE stray (id int)")).rejects.toThrow(
      "permission denied for schema public",
    );
    await expect(app.query("DROP TABLE sessions")).rejects.toThrow(
      "must be owner of table sessions",
    );
    await expect(app.query("ALTER TABLE users ADD COLUMN x int")).rejects.toThrow(
      "must be owner of table users",
    );
    await expect(app.query("TRUNCATE users CASCADE")).rejects.toThrow(
      "permission denied for table users",
    );
  });

  it("leaves the read-only role able to read and unable to write", async () => {
    await withClient({ connectionString: urlAs("readonly") }, async (readonly) => {
      const users = await readonly.query("SELECT count(*)::int AS n FROM users");
      expect(users.rows[0].n).toBeGreaterThan(0);
      await expect(
        readonly.query("INSERT INTO users (email) VALUES ('eve@example.com')"),
      ).rejects.toThrow("permission denied for table users");
      await expect(readonly.query("UPDATE campaign_policies SET max_cac = 1")).rejects.toThrow(
        "permission denied for table campaign_policies",
      );
      await expect(readonly.query("DELETE FROM sessions")).rejects.toThrow(
        "permission denied for table sessions",
      );
    });
  });
});
