/**
 * Property: for random schema edits (add, drop or rename a column or a table; change a type, a
 * default or nullability; add or drop an index, a unique, a check or a foreign key), the generated
 * migration, applied on a real Postgres 15, makes `migrate verify` match the edited schema and
 * leaves nothing more to generate; its down makes verify match the schema before the edit; and
 * `synter-infra diff`'s migration lint finds nothing in it but the destructive rules.
 *
 * Edits are chained (each starts from the last), several chains at once on one server, one
 * database each. The seed is printed; PROPERTY_SEED=<n> replays a run, PROPERTY_EDITS=<n> sets
 * how many edits (default 240).
 */
import { mkdtempSync, copyFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "pg";
import { analyseMigrations, MIGRATION_RISK_RULES } from "../../src/diff/migration-risks";
import { renderMigration } from "../../src/diff/migration-sql";
import { DEFAULT_MIGRATIONS_DIR, runMigrations, verifySchema } from "../../src/migrate";
import {
  isEmptyPlan,
  planMigration,
  renderMigrationFiles,
  type RenderedMigration,
} from "../../src/migrate/generate";
import { liveShape } from "../../src/migrate/verify";
import type { PgTable } from "../../schema/dsl/postgres";
import { TOUCH_UPDATED_AT_FUNCTION } from "../../schema/dsl/postgres";
import { useEmbeddedPostgres, type EmbeddedPostgres } from "../support/embedded-postgres";
import {
  ALL_TYPES,
  EDIT_KINDS,
  buildTables,
  modelOf,
  random,
  randomEdit,
  typeKey,
  type DefaultsByType,
} from "./random-edits";

const EDITS = Number(process.env.PROPERTY_EDITS ?? 240);
const CHAINS = 4;
const SEED = Number(process.env.PROPERTY_SEED ?? 20251104);

/** Literal defaults to try per type; kept only when Postgres prints them back unchanged. */
const DEFAULT_CANDIDATES: Readonly<Record<string, readonly string[]>> = {
  text: ["'a'::text", "''::text"],
  citext: ["'a'::citext"],
  "character varying": ["'a'::character varying"],
  character: ["'a'::bpchar"],
  integer: ["7", "0"],
  bigint: ["7", "0"],
  numeric: ["1.5", "0"],
  boolean: ["true", "false"],
  "timestamp with time zone": ["now()"],
  uuid: ["gen_random_uuid()"],
  "text[]": ["'{}'::text[]"],
  bytea: [],
};

/**
 * The DSL wants defaults exactly as `pg_get_expr` prints them, and the generator writes that text
 * back as `SET DEFAULT`: only candidates that survive that round trip unchanged are used.
 */
async function calibrateDefaults(server: EmbeddedPostgres): Promise<DefaultsByType> {
  const url = await server.createDatabase("calibrate_defaults");
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("CREATE EXTENSION citext");
    const result = new Map<string, string[]>();
    for (const type of ALL_TYPES) {
      const sqlType = typeKey(type);
      const kept: string[] = [];
      for (const candidate of DEFAULT_CANDIDATES[type.type] ?? []) {
        await client.query("DROP TABLE IF EXISTS probe");
        await client.query(`CREATE TABLE probe (c ${sqlType} DEFAULT ${candidate})`);
        const read = async () =>
          (
            await client.query<{ d: string }>(
              `SELECT pg_get_expr(d.adbin, d.adrelid) AS d FROM pg_attrdef d WHERE d.adrelid = 'probe'::regclass`,
            )
          ).rows[0]!.d;
        const printed = await read();
        await client.query(`ALTER TABLE probe ALTER COLUMN c SET DEFAULT ${printed}`);
        if ((await read()) === printed && printed === candidate) kept.push(printed);
      }
      result.set(sqlType, kept);
    }
    return result;
  } finally {
    await client.end();
  }
}

interface Failure {
  readonly chain: number;
  readonly step: number;
  readonly edit: string;
  readonly stage: string;
  readonly detail: string;
  readonly files: RenderedMigration["files"];
}

class PropertyFailure extends Error {
  constructor(f: Failure) {
    super(
      `seed ${SEED}, chain ${f.chain}, edit #${f.step} "${f.edit}" failed at ${f.stage}: ${f.detail}\n${f.files.map((file) => `==== ${file.fileName}\n${file.content}`).join("\n")}`,
    );
  }
}

async function verifyMatches(client: Client, tables: readonly PgTable[]): Promise<string | null> {
  const result = await verifySchema({ client, tables });
  return result.ok ? null : result.differences.map((d) => d.message).join("; ");
}

interface ChainStats {
  count: number;
  files: number;
  concurrent: number;
  destructive: number;
  /** Edits per kind ("add column", "rename table"…). */
  kinds: Map<string, number>;
}

async function runChain(
  server: EmbeddedPostgres,
  chain: number,
  edits: number,
  defaults: DefaultsByType,
): Promise<ChainStats> {
  const url = await server.createDatabase(`property_chain_${chain}`);
  const dir = mkdtempSync(join(tmpdir(), `synter-property-${chain}-`));
  for (const name of readdirSync(DEFAULT_MIGRATIONS_DIR))
    copyFileSync(join(DEFAULT_MIGRATIONS_DIR, name), join(dir, name));
  const client = new Client({ connectionString: url });
  await client.connect();
  const rng = random(SEED * 31 + chain);
  const stats = {
    count: 0,
    files: 0,
    concurrent: 0,
    destructive: 0,
    kinds: new Map<string, number>(),
  };
  try {
    await runMigrations({ client, migrationsDir: dir });
    let model = modelOf();
    let tables = buildTables(model);
    const base = await verifyMatches(client, tables);
    if (base !== null) throw new Error(`the real migrations do not match schema/auth.ts: ${base}`);
    for (let step = 1; step <= edits; step++) {
      const edit = randomEdit(model, rng, defaults);
      const next = buildTables(edit.model);
      let rendered: RenderedMigration = { files: [], risks: [] };
      const fail = (stage: string, detail: string) =>
        new PropertyFailure({
          chain,
          step,
          edit: edit.description,
          stage,
          detail,
          files: rendered.files,
        });

      const live = await liveShape(client, "public", [TOUCH_UPDATED_AT_FUNCTION]);
      const plan = planMigration({ tables: next, live });
      if (isEmptyPlan(plan))
        throw fail("generate", "an edit that changes the schema gave an empty plan");
      rendered = renderMigrationFiles(plan, {
        name: `edit-${step}`,
        timestamp: 1800000000000 + step * 10,
      });
      for (const file of rendered.files) writeFileSync(join(dir, file.fileName), file.content);

      // The lint of `synter-infra diff`, on the files as written: only destructive findings, and
      // exactly the ones the generator marked.
      const inputs = await Promise.all(
        rendered.files.map((f) => renderMigration(join(dir, f.fileName))),
      );
      const lintRisks = analyseMigrations(inputs);
      const unsafe = lintRisks.filter((r) => !MIGRATION_RISK_RULES[r.rule].destructive);
      if (unsafe.length > 0)
        throw fail("lint", unsafe.map((r) => `${r.rule}: ${r.statement}`).join("; "));
      const key = (r: { rule: string; statement: string | null }) => `${r.rule} ${r.statement}`;
      if (lintRisks.map(key).join("\n") !== rendered.risks.map(key).join("\n"))
        throw fail("lint", "the generator's markings differ from what the lint finds in the files");

      try {
        await runMigrations({ client, migrationsDir: dir });
      } catch (error) {
        throw fail("up", String(error));
      }
      const afterUp = await verifyMatches(client, next);
      if (afterUp !== null) throw fail("verify after up", afterUp);
      const again = planMigration({
        tables: next,
        live: await liveShape(client, "public", [TOUCH_UPDATED_AT_FUNCTION]),
      });
      if (!isEmptyPlan(again))
        throw fail(
          "regenerate",
          [...again.transactional, ...again.concurrent].map((s) => s.summary).join("; "),
        );

      try {
        await runMigrations({
          client,
          migrationsDir: dir,
          direction: "down",
          count: rendered.files.length,
        });
      } catch (error) {
        throw fail("down", String(error));
      }
      const afterDown = await verifyMatches(client, tables);
      if (afterDown !== null) throw fail("verify after down", afterDown);

      try {
        await runMigrations({ client, migrationsDir: dir });
      } catch (error) {
        throw fail("up again", String(error));
      }
      model = edit.model;
      tables = next;
      stats.count += 1;
      stats.files += rendered.files.length;
      stats.concurrent += rendered.files.filter((f) => !f.transactional).length;
      stats.destructive += rendered.risks.length > 0 ? 1 : 0;
      const kind = edit.kind;
      stats.kinds.set(kind, (stats.kinds.get(kind) ?? 0) + 1);
    }
    return stats;
  } finally {
    await client.end();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("migrate generate: random schema edits, applied and reverted on Postgres 15", () => {
  const server = useEmbeddedPostgres();

  test(`${EDITS} edits: up → verify matches → nothing left to generate → down → verify matches the previous state`, async () => {
    const started = Date.now();
    const defaults = await calibrateDefaults(server());
    const perChain = Math.ceil(EDITS / CHAINS);
    const results = await Promise.all(
      Array.from({ length: CHAINS }, (_, chain) => runChain(server(), chain, perChain, defaults)),
    );
    const total = { count: 0, files: 0, concurrent: 0, destructive: 0 };
    const kinds = new Map<string, number>();
    for (const r of results) {
      total.count += r.count;
      total.files += r.files;
      total.concurrent += r.concurrent;
      total.destructive += r.destructive;
      for (const [kind, n] of r.kinds) kinds.set(kind, (kinds.get(kind) ?? 0) + n);
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `migrate generate property test: ${total.count} random edits in ${seconds} s (seed ${SEED}, ${CHAINS} chains): ${total.files} migration files, ${total.concurrent} of them non-transactional, ${total.destructive} edits flagged destructive\n  ${[
        ...kinds,
      ]
        .sort()
        .map(([k, n]) => `${k}: ${n}`)
        .join(", ")}`,
    );
    expect(total.count).toBeGreaterThanOrEqual(Math.min(EDITS, 200));
    // Every kind of edit was exercised (a generator that never sees one proves nothing about it).
    if (EDITS >= 200) expect([...kinds.keys()].sort()).toEqual([...EDIT_KINDS].sort());
  });
});
