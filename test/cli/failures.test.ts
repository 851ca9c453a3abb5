/**
 * Hostile input through the real CLI process (`node bin/synter-infra.js …`), one row per case:
 * the exit code is the one of the failure's kind (src/cli/exit-codes.ts) and stderr is exactly one
 * line naming what failed and what to do next — no stack trace — unless --verbose asks for one.
 * Postgres cases run against an embedded server.
 */
import { spawn } from "node:child_process";
import {
  appendFileSync,
  copyFileSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXIT_CODES } from "../../src/cli/exit-codes";
import type { ErrorKind } from "../../src/errors/tool-error";
import { freePort, useEmbeddedPostgres, type EmbeddedPostgres } from "../support/embedded-postgres";
import { copyMigrations, freshDatabase } from "../postgres/migration-fixtures";

const ROOT = join(__dirname, "..", "..");
const CLI = join(ROOT, "bin", "synter-infra.js");

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** What a case needs: the server, a scratch project dir, a closed port, migrated databases. */
interface Context {
  readonly server: EmbeddedPostgres;
  readonly project: string;
  readonly closedPort: number;
  /** A database whose history no longer matches its files (an applied file was edited). */
  readonly editedHistory: { readonly url: string; readonly dir: string };
  /** A database with every migration applied. */
  readonly migrated: string;
  /** A migrations dir whose extra JS migration has a bug (a TypeError). */
  readonly buggyDir: string;
}

interface FailureCase {
  readonly name: string;
  readonly args: (ctx: Context) => string[];
  readonly kind: ErrorKind;
  readonly stderr: (ctx: Context) => string;
}

const hostOf = (ctx: Context) => `${ctx.server.host}:${ctx.server.port}`;

const CASES: readonly FailureCase[] = [
  {
    name: "bad YAML in Pulumi.<stack>.yaml names the file and the line",
    args: (ctx) => ["plan", "--stack", "dev", "--project-dir", ctx.project],
    kind: "config",
    stderr: (ctx) =>
      `error: ${join(ctx.project, "Pulumi.dev.yaml")}:3:3: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]; fix the file\n`,
  },
  {
    name: "plan --stack pr-0",
    args: () => ["plan", "--stack", "pr-0"],
    kind: "usage",
    stderr: () =>
      `error: no stack "pr-0": a pull request's stack is pr-<n>, n the PR number (1 or more, no leading zeros)\n`,
  },
  {
    name: "a stack without a file",
    args: (ctx) => ["plan", "--stack", "qa", "--project-dir", ctx.project],
    kind: "usage",
    stderr: (ctx) =>
      `error: no configuration for stack "qa": ${join(ctx.project, "Pulumi.qa.yaml")} does not exist (stacks: dev)\n`,
  },
  {
    name: "a Postgres URL without a password, for a server that wants one",
    args: (ctx) => [
      "migrate",
      "status",
      "--database-url",
      `postgres://postgres@${hostOf(ctx)}/postgres`,
    ],
    kind: "auth",
    stderr: (ctx) =>
      `error: the database at ${hostOf(ctx)} asks user "postgres" for a password and the URL has none; put it in the URL (postgres://postgres:PASSWORD@${hostOf(ctx)}/…)\n`,
  },
  {
    name: "schema export --out under a file",
    args: () => ["schema", "export", "--out", "/dev/null/x"],
    kind: "usage",
    stderr: () =>
      "error: cannot write to --out /dev/null/x: a part of the path is not a directory (/dev/null/x/bigquery/tables); pass a directory you can write to\n",
  },
  {
    name: "schema check --file that does not exist",
    args: () => ["schema", "check", "--file", "missing.sql"],
    kind: "usage",
    stderr: () =>
      "error: --file missing.sql: no such file (a .sql file with {{ref:<table or view>}} placeholders)\n",
  },
  {
    name: "an unknown option (commander's suggestion kept on the line)",
    args: () => ["migrate", "up", "--jsn"],
    kind: "usage",
    stderr: () =>
      "error: unknown option '--jsn' (Did you mean --json?); see synter-infra migrate up --help\n",
  },
  {
    name: "a missing required option",
    args: () => ["plan"],
    kind: "usage",
    stderr: () =>
      "error: required option '-s, --stack <stack>' not specified; see synter-infra plan --help\n",
  },
  {
    name: "a missing argument",
    args: () => ["migrate", "create"],
    kind: "usage",
    stderr: () =>
      "error: missing required argument 'name'; see synter-infra migrate create --help\n",
  },
  {
    name: "an unknown command",
    args: () => ["migrat"],
    kind: "usage",
    stderr: () =>
      "error: unknown command 'migrat' (Did you mean migrate?); see synter-infra --help\n",
  },
  {
    name: "migrate up against a closed port",
    args: (ctx) => [
      "migrate",
      "up",
      "--database-url",
      `postgres://u:secret-pw@127.0.0.1:${ctx.closedPort}/synter`,
    ],
    kind: "unreachable",
    stderr: (ctx) =>
      `error: cannot reach the database at 127.0.0.1:${ctx.closedPort}: connection refused (is Postgres running?)\n`,
  },
  {
    name: "migrate up with a wrong password",
    args: (ctx) => [
      "migrate",
      "up",
      "--database-url",
      `postgres://postgres:wrong-pw@${hostOf(ctx)}/postgres`,
    ],
    kind: "auth",
    stderr: (ctx) =>
      `error: the database at ${hostOf(ctx)} rejected the credentials of user "postgres" (password authentication failed for user "postgres"); check the user and password in the URL\n`,
  },
  {
    name: "migrate up on a database that does not exist",
    args: (ctx) => ["migrate", "up", "--database-url", ctx.server.url("no_such_db")],
    kind: "config",
    stderr: (ctx) =>
      `error: database "no_such_db" does not exist on ${hostOf(ctx)}; create it, or fix the database name in the URL\n`,
  },
  {
    name: "migrate up 0 (not read as nothing to do)",
    args: (ctx) => ["migrate", "up", "0", "--database-url", ctx.server.url()],
    kind: "usage",
    stderr: () =>
      'error: invalid count "0" for up: a whole number ≥ 1, or "all" (migrate status lists what is pending)\n',
  },
  {
    name: "migrate down 0",
    args: (ctx) => ["migrate", "down", "0", "--database-url", ctx.server.url()],
    kind: "usage",
    stderr: () =>
      'error: invalid count "0" for down: a whole number ≥ 1, or "all" (migrate status lists what is pending)\n',
  },
  {
    name: "migrate down all without --yes and without a terminal",
    args: (ctx) => ["migrate", "down", "all", "--database-url", ctx.migrated],
    kind: "refused",
    stderr: (ctx) =>
      `error: refusing to revert every migration of ${ctx.migrated.replace(`:${ctx.server.password}@`, ":***@")} without --yes: down all drops every table and its data; pass --yes, or revert N migrations\n`,
  },
  {
    name: "migrate status when an applied file was edited",
    args: (ctx) => [
      "migrate",
      "status",
      "--database-url",
      ctx.editedHistory.url,
      "--migrations-dir",
      ctx.editedHistory.dir,
    ],
    kind: "mismatch",
    stderr: () =>
      "error: the migration files disagree with the applied history (1 problem, listed above); up and down refuse to run until the files are restored\n",
  },
  {
    name: "teardown of prod without --confirm",
    args: () => ["teardown", "--stack", "prod"],
    kind: "refused",
    stderr: () =>
      "error: refusing to tear down prod: it holds real data. Re-run with --confirm prod (preview the steps with --dry-run; docs/rollback.md explains the restore)\n",
  },
];

describe("failures through the real CLI", () => {
  const server = useEmbeddedPostgres();
  let ctx: Context;
  const cleanups: (() => void)[] = [];

  beforeAll(async () => {
    const project = mkdtempSync(join(tmpdir(), "synter-cli-failures-"));
    cleanups.push(() => rmSync(project, { recursive: true, force: true }));
    copyFileSync(join(ROOT, "Pulumi.yaml"), join(project, "Pulumi.yaml"));
    writeFileSync(
      join(project, "Pulumi.dev.yaml"),
      "config:\n  synter-platform:gcpProject: [synter-dev\n  synter-platform:location: EU\n",
    );

    const edited = copyMigrations();
    cleanups.push(edited.remove);
    const editedUrl = await freshDatabase(server(), "edited_history");
    const applied = await runCli([
      "migrate",
      "up",
      "1",
      "--database-url",
      editedUrl,
      "--migrations-dir",
      edited.dir,
    ]);
    if (applied.code !== 0) throw new Error(`migrate up failed: ${applied.stderr}`);
    const [first] = readdirSync(edited.dir).sort();
    appendFileSync(join(edited.dir, first!), "\n-- an innocent-looking comment\n");

    const migrated = await freshDatabase(server(), "migrated");
    const up = await runCli(["migrate", "up", "--database-url", migrated]);
    if (up.code !== 0) throw new Error(`migrate up failed: ${up.stderr}`);

    const buggy = copyMigrations({
      "1795600120000_buggy.js": "exports.up = () => { null.boom(); };\nexports.down = () => {};\n",
    });
    cleanups.push(buggy.remove);

    ctx = {
      server: server(),
      project,
      closedPort: await freePort(),
      editedHistory: { url: editedUrl, dir: edited.dir },
      migrated,
      buggyDir: buggy.dir,
    };
  });
  afterAll(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

  test.each(CASES.map((c) => [c.name, c] as const))("%s", async (_name, failure) => {
    const result = await runCli(failure.args(ctx));
    expect({ code: result.code, stderr: result.stderr }).toEqual({
      code: EXIT_CODES[failure.kind],
      stderr: failure.stderr(ctx),
    });
  });

  test("--verbose adds the stack trace to the one line", async () => {
    const result = await runCli([
      "migrate",
      "up",
      "--database-url",
      `postgres://u:pw@127.0.0.1:${ctx.closedPort}/synter`,
      "--verbose",
    ]);
    expect(result.code).toBe(EXIT_CODES.unreachable);
    const lines = result.stderr.split("\n");
    expect(lines[0]).toBe(
      `error: cannot reach the database at 127.0.0.1:${ctx.closedPort}: connection refused (is Postgres running?)`,
    );
    expect(lines[1]).toBe(
      `DatabaseConnectionError: cannot reach the database at 127.0.0.1:${ctx.closedPort}: connection refused (is Postgres running?)`,
    );
    expect(lines[2]).toMatch(/^ {4}at /);
    expect(result.stderr).toContain("caused by: ");
  });

  test("a bug is internal: exit 70 with its stack", async () => {
    const url = await freshDatabase(server(), "buggy");
    const result = await runCli([
      "migrate",
      "up",
      "--database-url",
      url,
      "--migrations-dir",
      ctx.buggyDir,
    ]);
    expect(result.code).toBe(70);
    const internal = result.stderr.split("\n").findIndex((l) => l.startsWith("internal error: "));
    expect(result.stderr.split("\n")[internal]).toBe(
      "internal error: TypeError: Cannot read properties of null (reading 'boom')",
    );
    expect(result.stderr.split("\n")[internal + 1]).toMatch(/^ {4}at .*1795600120000_buggy\.js/);
  });

  test("--version prints the package's version", async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      version: string;
    };
    const result = await runCli(["--version"]);
    expect(result).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
  });

  test("--help exits 0", async () => {
    const result = await runCli(["migrate", "--help"]);
    expect([result.code, result.stderr]).toEqual([0, ""]);
    expect(result.stdout).toContain("Usage: synter-infra migrate [options] [command]");
  });
});
