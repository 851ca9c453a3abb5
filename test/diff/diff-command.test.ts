/**
 * `diff --base HEAD~1` end to end, in a temp git repository holding a copy of this project: a
 * column type change is refused (data loss) naming the table and column; a new NULLABLE column exits
 * 0 "in place"; an edited merged migration is a config error; a new risky migration is listed with
 * its reasons.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EXIT_CODES } from "../../src/cli/exit-codes";
import { COMMENT_MARKER } from "../../src/diff/render-markdown";

const root = path.resolve(__dirname, "../..");
// The real CLI entry, as users run it (only the invoked area is loaded).
const cli = path.join(root, "bin/synter-infra.js");
const PROGRAM = [
  "schema",
  "infra",
  "src",
  "migrations",
  "index.ts",
  "package.json",
  "tsconfig.json",
];

function git(cwd: string, ...args: string[]): string {
  return execFileSync(
    "git",
    ["-c", "user.email=ci@synter.invalid", "-c", "user.name=ci", ...args],
    {
      cwd,
      encoding: "utf8",
    },
  );
}

function makeRepo(withProgram: boolean): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "synter-diff-repo-"));
  const entries = withProgram
    ? [...PROGRAM, ...fs.readdirSync(root).filter((f) => /^Pulumi\..*yaml$/.test(f))]
    : ["schema", "migrations"];
  for (const name of entries) {
    fs.cpSync(path.join(root, name), path.join(dir, name), { recursive: true });
  }
  fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"), "dir");
  fs.writeFileSync(path.join(dir, ".gitignore"), "node_modules\n");
  git(dir, "init", "-q");
  git(dir, "add", "-A");
  git(dir, "commit", "-qm", "base");
  return dir;
}

function edit(dir: string, file: string, from: string, to: string): void {
  const full = path.join(dir, file);
  const text = fs.readFileSync(full, "utf8");
  expect(text).toContain(from);
  fs.writeFileSync(full, text.replace(from, to));
  git(dir, "commit", "-qam", `edit ${file}`);
}

function diff(
  dir: string,
  ...args: string[]
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [cli, "diff", "--base", "HEAD~1", ...args], {
    cwd: dir,
    encoding: "utf8",
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const CONVERSIONS_EVENT_ID = `    event_id: bq
      .int64()`;

describe("diff with the Pulumi program (tables from the offline plan)", () => {
  let repo: string;
  beforeEach(() => {
    repo = makeRepo(true);
  });
  afterEach(() => {
    fs.rmSync(repo, { recursive: true, force: true });
  });

  test("a column type change is refused and names the table and the column", () => {
    edit(repo, "schema/analytics.ts", CONVERSIONS_EVENT_ID, `    event_id: bq\n      .string()`);
    const result = diff(repo);
    expect(result.status).toBe(EXIT_CODES.refused);
    expect(result.stdout.startsWith(`${COMMENT_MARKER}\n`)).toBe(true);
    expect(result.stdout).toContain("### BigQuery tables (from the offline plan)");
    expect(result.stdout).toContain(
      "- `synter_analytics.conversions`: **REPLACE — the table is re-created and its data deleted**\n" +
        "  - REPLACE: `column-type-changed` — columns `event_id`: INTEGER → STRING.",
    );
    expect(result.stderr).toBe(
      "error: the change deletes data (see the report); pass --allow-data-loss if that is intended\n",
    );
    expect(diff(repo, "--allow-data-loss").status).toBe(0);
  });

  test("a new NULLABLE column exits 0 and says in place", () => {
    edit(
      repo,
      "schema/analytics.ts",
      `    currency: bq.string().describe("ISO 4217 currency of value.").from(my.char(3)),`,
      `    currency: bq.string().describe("ISO 4217 currency of value.").from(my.char(3)),\n    channel: bq.string().describe("Sales channel."),`,
    );
    const result = diff(repo, "--format", "json");
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout) as {
      dataLoss: boolean;
      exitCode: number;
      tables: {
        changed: { key: string; effect: string; findings: { rule: string; columns: string[] }[] }[];
      };
    };
    expect(report.dataLoss).toBe(false);
    expect(report.exitCode).toBe(0);
    expect(report.tables.changed).toEqual([
      expect.objectContaining({
        key: "synter_analytics.conversions",
        effect: "in-place",
        findings: [
          expect.objectContaining({ rule: "column-added-nullable", columns: ["channel"] }),
        ],
      }),
    ]);
    const markdown = diff(repo);
    expect(markdown.status).toBe(0);
    expect(markdown.stdout).toContain("✅ **No data loss**");
    expect(markdown.stdout).toContain(
      "- `synter_analytics.conversions`: IN PLACE\n  - in place: `column-added-nullable` — columns `channel`",
    );
  });
});

describe("diff from schema/ and migrations alone", () => {
  let repo: string;
  beforeEach(() => {
    repo = makeRepo(false);
  });
  afterEach(() => {
    fs.rmSync(repo, { recursive: true, force: true });
  });

  test("the same type change is caught from schema/ when there is no program", () => {
    edit(repo, "schema/analytics.ts", CONVERSIONS_EVENT_ID, `    event_id: bq\n      .string()`);
    const result = diff(repo);
    expect(result.status).toBe(EXIT_CODES.refused);
    expect(result.stdout).toContain("### BigQuery tables (from schema/)");
    expect(result.stdout).toContain("- `conversions`: **REPLACE");
  });

  test("editing a merged migration is a config error; a new risky one is listed", () => {
    const [first] = fs.readdirSync(path.join(repo, "migrations")).sort();
    fs.appendFileSync(path.join(repo, "migrations", first), "\n-- an innocent-looking comment\n");
    fs.writeFileSync(
      path.join(repo, "migrations", "1999999999999_drop-name.sql"),
      "-- Up Migration\nALTER TABLE users DROP COLUMN name;\n-- Down Migration\nALTER TABLE users ADD COLUMN name varchar(128);\n",
    );
    git(repo, "add", "-A");
    git(repo, "commit", "-qm", "edit");
    const result = diff(repo);
    expect(result.status).toBe(EXIT_CODES.config);
    expect(result.stdout).toContain(`- ❌ \`migrations/${first}\` was **edited** after merge`);
    expect(result.stdout).toContain(
      "- `1999999999999_drop-name.sql`: 1 risk(s)\n  - 🛑 data loss `drop-column` on `users.name`: drops a column and its values",
    );
  });

  test("an unknown base ref is a clear error", () => {
    const result = diff(repo, "--base", "no-such-ref");
    expect(result.status).toBe(EXIT_CODES.usage);
    expect(result.stderr).toContain('git ref "no-such-ref" does not exist here');
  });
});
