import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Command } from "commander";
import { analyticsTables, authTableList } from "../../schema";
import { bigQuerySchemaFields } from "../../schema/generate/bigquery-schema";
import { renderDataDictionary } from "../../schema/generate/data-dictionary";
import { postgresSchemaJson } from "../../schema/generate/postgres-schema";
import {
  checkedInArtefacts,
  DATA_DICTIONARY_PATH,
  GENERATED_DIRECTORY,
  REGENERATE_COMMAND,
  schemaExportFiles,
  staleArtefacts,
} from "../../schema/generate/schema-export";
import { renderViewSql } from "../../schema/views";
import { registerSchemaCommands } from "../../src/cli/commands/schema";

const repositoryRoot = resolve(__dirname, "..", "..");

describe("checked-in generated artefacts", () => {
  it.each(checkedInArtefacts().map((file) => [file.path, file.content]))(
    "%s is up to date",
    (path, expected) => {
      let actual: string | undefined;
      try {
        actual = readFileSync(join(repositoryRoot, path), "utf8");
      } catch {
        actual = undefined;
      }
      if (actual !== expected) {
        throw new Error(
          `${path} is ${actual === undefined ? "missing" : "stale"}: run \`${REGENERATE_COMMAND}\` and commit the result`,
        );
      }
    },
  );

  it("has no leftover files in the generated directory", () => {
    expect(staleArtefacts(repositoryRoot)).toEqual([]);
  });

  it("detects a changed, a missing and a leftover file", () => {
    const root = mkdtempSync(join(tmpdir(), "synter-generated-"));
    try {
      cpSync(join(repositoryRoot, GENERATED_DIRECTORY), join(root, GENERATED_DIRECTORY), {
        recursive: true,
      });
      cpSync(join(repositoryRoot, DATA_DICTIONARY_PATH), join(root, DATA_DICTIONARY_PATH));
      expect(staleArtefacts(root)).toEqual([]);
      writeFileSync(join(root, GENERATED_DIRECTORY, "bigquery/tables/events.json"), "[]\n");
      rmSync(join(root, GENERATED_DIRECTORY, "postgres/schema.json"));
      writeFileSync(join(root, GENERATED_DIRECTORY, "bigquery/views/old_view.sql"), "SELECT 1\n");
      expect(staleArtefacts(root)).toEqual([
        "schema/generated/bigquery/tables/events.json",
        "schema/generated/bigquery/views/old_view.sql",
        "schema/generated/postgres/schema.json",
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("schema export", () => {
  it("is deterministic and lists tables, views (in creation order) and the Postgres schema", () => {
    const target = { project: "synter-prod-1", dataset: "synter_analytics" };
    const files = schemaExportFiles(target);
    expect(schemaExportFiles(target)).toEqual(files);
    expect(files.map((file) => file.path)).toEqual([
      "bigquery/tables/events.json",
      "bigquery/tables/ad_metrics.json",
      "bigquery/tables/conversions.json",
      "bigquery/tables/touchpoints.json",
      "bigquery/tables/agent_runs.json",
      "bigquery/views/fact_attribution_last_touch.sql",
      "bigquery/views/fact_attribution_first_touch.sql",
      "bigquery/views/fact_attribution_linear.sql",
      "bigquery/views/campaign_performance_daily.sql",
      "postgres/schema.json",
    ]);
    const adMetrics = files.find((f) => f.path === "bigquery/tables/ad_metrics.json")!;
    expect(adMetrics.content).toBe(
      `${JSON.stringify(bigQuerySchemaFields(analyticsTables.ad_metrics), null, 2)}\n`,
    );
    const view = files.find((f) => f.path === "bigquery/views/fact_attribution_linear.sql")!;
    expect(view.content).toBe(
      "-- Generated from schema/views/fact_attribution_linear.sql for synter-prod-1.synter_analytics; do not edit.\n" +
        `${renderViewSql("fact_attribution_linear", target).trimEnd()}\n`,
    );
  });

  it("writes the files through the CLI, with --project and --dataset", async () => {
    const out = mkdtempSync(join(tmpdir(), "synter-export-"));
    const write = jest.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      const program = new Command("synter-infra").exitOverride();
      registerSchemaCommands(program);
      await program.parseAsync(
        ["schema", "export", "--out", out, "--project", "acme-data", "--dataset", "ds_1"],
        { from: "user" },
      );
      for (const file of schemaExportFiles({ project: "acme-data", dataset: "ds_1" })) {
        expect(readFileSync(join(out, file.path), "utf8")).toBe(file.content);
      }
      expect(
        readFileSync(join(out, "bigquery/views/fact_attribution_last_touch.sql"), "utf8"),
      ).toContain("FROM `acme-data.ds_1.conversions` AS c");
    } finally {
      write.mockRestore();
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("npm run schema:export works without arguments, into build/schema-export/", () => {
    const out = join(repositoryRoot, "build", "schema-export");
    rmSync(out, { recursive: true, force: true });
    try {
      const run = spawnSync("npm", ["run", "--silent", "schema:export"], {
        cwd: repositoryRoot,
        encoding: "utf8",
        timeout: 60_000,
      });
      const files = schemaExportFiles({ project: "synter-dev", dataset: "synter_analytics" });
      expect([run.status, run.stderr]).toEqual([0, ""]);
      expect(run.stdout).toBe(
        files.map((file) => `wrote ${join("build/schema-export", file.path)}\n`).join(""),
      );
      for (const file of files) {
        expect(readFileSync(join(out, file.path), "utf8")).toBe(file.content);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("rejects an invalid project id as a usage error", async () => {
    const program = new Command("synter-infra").exitOverride();
    registerSchemaCommands(program);
    await expect(
      program.parseAsync(
        ["schema", "export", "--out", "/nonexistent", "--project", "Bad_Project"],
        {
          from: "user",
        },
      ),
    ).rejects.toMatchObject({
      kind: "usage",
      message: 'invalid BigQuery project id "Bad_Project"',
    });
  });
});

describe("postgres schema JSON", () => {
  it("lists the auth tables in foreign-key order with derived names", () => {
    const json = postgresSchemaJson();
    expect(json.extensions).toEqual(["citext"]);
    expect(json.tables.map((t) => t.name)).toEqual(authTableList.map((t) => t.name));
    const sessions = json.tables.find((t) => t.name === "sessions")!;
    expect(sessions.columns.find((c) => c.name === "session_token")).toEqual({
      name: "session_token",
      type: "character(64)",
      nullable: false,
      default: null,
      identity: null,
      primaryKey: false,
      unique: true,
      allowedValues: null,
      description: "Opaque session token (64 hex chars).",
      legacy: { column: "session_token", definition: "CHAR(64) NOT NULL" },
    });
    expect(sessions.foreignKeys).toEqual([
      {
        name: "sessions_user_id_fkey",
        column: "user_id",
        references: { table: "users", column: "id" },
        onDelete: "cascade",
      },
    ]);
    expect(sessions.indexes.map((i) => i.name)).toEqual([
      "sessions_user_id_idx",
      "sessions_expires_at_idx",
    ]);
  });
});

describe("data dictionary", () => {
  const dictionary = renderDataDictionary();

  it("has one row per BigQuery column with type, mode and legacy source", () => {
    for (const table of Object.values(analyticsTables)) {
      for (const [name, column] of Object.entries(table.columns)) {
        const row = dictionary
          .split("\n")
          .find((line) =>
            line.startsWith(`| \`${name}\` | ${column.spec.type} | ${column.spec.mode} |`),
          );
        expect(row).toBeDefined();
      }
    }
    expect(dictionary).toContain(
      "| `platform` | STRING | REQUIRED | Ad platform: google, reddit or x. One of: `google`, `reddit`, `x`. | `platform` ENUM('google','reddit','x') NOT NULL |",
    );
    expect(dictionary).toContain(
      "| `ingested_at` | TIMESTAMP | NULLABLE | When the row was written. Rows are appended, not upserted: readers keep the latest per natural key. Default: `CURRENT_TIMESTAMP()`. | — |",
    );
  });

  it("documents the views and the Postgres tables with constraints", () => {
    expect(dictionary).toContain("- Reads: `ad_metrics`, `fact_attribution_last_touch`.");
    expect(dictionary).toContain(
      "| `email` | citext | NOT NULL | — | unique `users_email_key` | Sign-in email, unique case-insensitively. | `email` VARCHAR(320) NOT NULL |",
    );
    expect(dictionary).toContain(
      "| `user_id` | bigint | NOT NULL | — | FK `sessions_user_id_fkey` → users.id on delete cascade | Owner of the session. | `user_id` BIGINT NOT NULL |",
    );
  });
});
