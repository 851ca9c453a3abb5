import { bq, bigQueryTable } from "../../schema/dsl/bigquery";
import { pg, pgTable, formatPgType } from "../../schema/dsl/postgres";
import { analyticsTables, authTables, users, sessions, oauth_accounts, events } from "../../schema";
import { bigQuerySchemaFields } from "../../schema/generate/bigquery-schema";

describe("BigQuery table DSL", () => {
  it("reports every problem of a table at once", () => {
    expect(() =>
      bigQueryTable(
        "BadName",
        { Col: bq.string(), n: bq.int64().describe("a number").oneOf(["x"]) },
        {
          description: "",
          partitionBy: "n",
          clusterBy: ["n", "n", "n", "n", "n"],
          legacy: { table: "t", keys: [] },
        },
      ),
    ).toThrow(
      [
        'invalid table BadName: table name "BadName" must be snake_case',
        'column "Col" must be snake_case',
        "column Col has no description",
        "column n: allowed values need a STRING column",
        "partition column n must be DATE or TIMESTAMP",
        "BigQuery allows at most four clustering columns",
        "fix its definition in schema/",
      ].join("; "),
    );
  });

  it("keeps REQUIRED only where the legacy column is NOT NULL, and id NULLABLE", () => {
    const fields = bigQuerySchemaFields(events);
    expect(fields.filter((f) => f.mode === "REQUIRED").map((f) => f.name)).toEqual([
      "event_name",
      "ts",
    ]);
    expect(fields[0]).toEqual({
      name: "id",
      type: "INTEGER",
      mode: "NULLABLE",
      description:
        "Legacy auto-increment id; kept for migrated rows, absent on rows written since.",
    });
  });

  it("gives every analytics column a legacy source except ingested_at", () => {
    const withoutLegacy = Object.values(analyticsTables).flatMap((t) =>
      Object.entries(t.columns)
        .filter(([, c]) => c.spec.legacy === undefined)
        .map(([name]) => `${t.name}.${name}`),
    );
    expect(withoutLegacy).toEqual(["ad_metrics.ingested_at"]);
  });
});

describe("Postgres table DSL", () => {
  it("derives the constraint, index and trigger names Postgres would give", () => {
    expect(users.primaryKey).toEqual({ name: "users_pkey", columns: ["id"] });
    expect(users.uniques).toEqual([{ name: "users_email_key", columns: ["email"] }]);
    expect(users.checks).toEqual([
      { name: "users_role_check", column: "role", values: ["admin", "analyst", "viewer"] },
    ]);
    expect(users.triggers).toEqual([{ name: "users_touch_updated_at", column: "updated_at" }]);
    expect(sessions.foreignKeys).toEqual([
      {
        table: "users",
        column: "id",
        onDelete: "cascade",
        name: "sessions_user_id_fkey",
        fromColumn: "user_id",
      },
    ]);
    expect(sessions.indexes.map((i) => i.name)).toEqual([
      "sessions_user_id_idx",
      "sessions_expires_at_idx",
    ]);
    expect(oauth_accounts.uniques.map((u) => u.name)).toEqual([
      "oauth_accounts_provider_provider_user_id_key",
    ]);
  });

  it("lists tables parents first, so creation and COPY follow foreign keys", () => {
    const names = Object.keys(authTables);
    for (const table of Object.values(authTables)) {
      for (const fk of table.foreignKeys) {
        expect(names.indexOf(fk.table)).toBeLessThan(names.indexOf(table.name));
      }
    }
  });

  it("formats types as format_type() prints them", () => {
    expect(formatPgType(users.columns.password_hash.spec)).toBe("character varying(255)");
    expect(formatPgType(pg.numeric(10, 2).spec)).toBe("numeric(10,2)");
    expect(formatPgType(users.columns.email.spec)).toBe("citext");
  });

  it("rejects a table without exactly one primary key, naming every problem", () => {
    expect(() => pgTable("t", { a: pg.text() }, { description: "t", touchOnUpdate: "a" })).toThrow(
      "invalid table t: needs exactly one primary key column, has 0; column a has no description; fix its definition in schema/",
    );
  });
});
