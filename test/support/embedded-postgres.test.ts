import { Client } from "pg";
import { useEmbeddedPostgres } from "./embedded-postgres";

describe("embedded Postgres test server", () => {
  const server = useEmbeddedPostgres();

  it("runs PostgreSQL 15 with citext available and rejects a wrong password", async () => {
    const url = await server().createDatabase("probe");
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ v: string; ext: string }>(
        "SELECT current_setting('server_version_num') AS v, (SELECT name FROM pg_available_extensions WHERE name = 'citext') AS ext",
      );
      expect(rows[0]?.v.startsWith("15")).toBe(true);
      expect(rows[0]?.ext).toBe("citext");
    } finally {
      await client.end();
    }
    const wrong = new Client({
      host: server().host,
      port: server().port,
      user: "postgres",
      password: "not-the-password",
      database: "probe",
    });
    await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);
  });
});
