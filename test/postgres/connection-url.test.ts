/** The two forms of a Postgres URL we hand out: libpq's (psql, lib/pq) and node-pg's (the app). */
import {
  NODE_PG_LIBPQ_COMPAT,
  nodePgConnectionUrl,
  postgresConnectionUrl,
} from "../../infra/postgres/connection-url";

const connection = {
  user: "synter_app",
  password: "p@ss:w/rd",
  host: "10.1.2.3",
  port: 5432,
  database: "synter",
} as const;

describe("postgresConnectionUrl (libpq form)", () => {
  it.each(["disable", "require", "verify-ca", "verify-full"] as const)(
    "sslmode=%s, credentials percent-encoded",
    (sslMode) => {
      expect(postgresConnectionUrl({ ...connection, sslMode })).toBe(
        `postgresql://synter_app:p%40ss%3Aw%2Frd@10.1.2.3:5432/synter?sslmode=${sslMode}`,
      );
    },
  );

  it("brackets an IPv6 host", () => {
    expect(postgresConnectionUrl({ ...connection, host: "2001:db8::5", sslMode: "require" })).toBe(
      "postgresql://synter_app:p%40ss%3Aw%2Frd@[2001:db8::5]:5432/synter?sslmode=require",
    );
  });
});

describe("nodePgConnectionUrl (the app's POSTGRES_URL)", () => {
  it("adds uselibpqcompat=true where node-pg's sslmode meaning differs from libpq's", () => {
    expect(NODE_PG_LIBPQ_COMPAT).toBe("uselibpqcompat=true");
    for (const sslMode of ["require", "verify-ca", "verify-full"] as const) {
      expect(nodePgConnectionUrl(postgresConnectionUrl({ ...connection, sslMode }))).toBe(
        `postgresql://synter_app:p%40ss%3Aw%2Frd@10.1.2.3:5432/synter?sslmode=${sslMode}&uselibpqcompat=true`,
      );
    }
  });

  it("leaves a URL without sslmode, or with disable, as it is (both readers agree)", () => {
    const disabled = postgresConnectionUrl({ ...connection, sslMode: "disable" });
    expect(nodePgConnectionUrl(disabled)).toBe(disabled);
    expect(nodePgConnectionUrl("postgresql://u:p@h/db")).toBe("postgresql://u:p@h/db");
  });

  it("is idempotent and keeps other parameters", () => {
    const once = nodePgConnectionUrl("postgresql://u:p@h/db?application_name=api&sslmode=require");
    expect(once).toBe(
      "postgresql://u:p@h/db?application_name=api&sslmode=require&uselibpqcompat=true",
    );
    expect(nodePgConnectionUrl(once)).toBe(once);
    expect(nodePgConnectionUrl("postgresql://u:p@h/db?uselibpqcompat=false&sslmode=require")).toBe(
      "postgresql://u:p@h/db?sslmode=require&uselibpqcompat=true",
    );
  });
});
