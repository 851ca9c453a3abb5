/**
 * Writing key ranges into Postgres. Each range is one transaction, so it is either wholly in the
 * table or not at all, and redoing it (after a crash between the commit and the checkpoint, or on a
 * second run) changes nothing:
 *
 * - the usual case, no target row in the range yet: plain `COPY` (fast path);
 * - rows already there: `COPY` into a temp staging table, delete the range's rows the source no
 *   longer has, then insert-or-update only rows that differ. User triggers are disabled inside the
 *   transaction so the `updated_at` trigger cannot overwrite migrated timestamps (this needs the
 *   table owner, i.e. the migrator role); foreign-key triggers stay on.
 *
 * `DELETE` + re-`COPY` would be simpler but would cascade into child tables (sessions of a user).
 */
import type { Client } from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { connectPostgresClient } from "../migrate/postgres-tls";
import type { KeyRange } from "./checksum";
import type { MigrationTable } from "./table-plan";

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

function rangeCondition(column: string, range: KeyRange, alias = ""): string {
  const col = alias ? `${alias}.${q(column)}` : q(column);
  const conditions = ["true"];
  if (range.after !== undefined) conditions.push(`${col} > ${range.after}`);
  if (range.upTo !== undefined) conditions.push(`${col} <= ${range.upTo}`);
  return conditions.join(" AND ");
}

export async function connectPostgres(url: string): Promise<Client> {
  const client = await connectPostgresClient(url, { application_name: "synter-data-migrate" });
  // Migrated values carry explicit offsets; UTC keeps any text we print unambiguous too.
  await client.query("SET TIME ZONE 'UTC'");
  return client;
}

/** Streams COPY text (UTF-8 chunks) into `COPY <target> (<columns>) FROM STDIN`, with backpressure. */
async function copyChunks(
  client: Client,
  target: string,
  table: MigrationTable,
  chunks: readonly Buffer[],
): Promise<void> {
  const columns = table.columns.map((c) => q(c.name)).join(", ");
  const stream = client.query(copyFrom(`COPY ${target} (${columns}) FROM STDIN`));
  const done = new Promise<void>((resolve, reject) => {
    stream.on("finish", resolve);
    stream.on("error", reject);
  });
  for (const chunk of chunks) {
    if (!stream.write(chunk)) await new Promise((r) => stream.once("drain", r));
  }
  stream.end();
  await done;
}

export async function writeRange(
  client: Client,
  table: MigrationTable,
  range: KeyRange,
  copyText: readonly Buffer[],
): Promise<void> {
  const key = table.key.name;
  await client.query("BEGIN");
  try {
    const existing = await client.query(
      `SELECT EXISTS (SELECT 1 FROM ${q(table.name)} WHERE ${rangeCondition(key, range)}) AS present`,
    );
    if (!existing.rows[0].present) {
      await copyChunks(client, q(table.name), table, copyText);
    } else {
      const stage = q(`synter_stage_${table.name}`);
      await client.query(
        `CREATE TEMP TABLE IF NOT EXISTS ${stage} (LIKE ${q(table.name)} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`,
      );
      await copyChunks(client, stage, table, copyText);
      const cols = table.columns.map((c) => q(c.name));
      const updatable = cols.filter((c) => c !== q(key));
      await client.query(`ALTER TABLE ${q(table.name)} DISABLE TRIGGER USER`);
      await client.query(
        `DELETE FROM ${q(table.name)} t WHERE ${rangeCondition(key, range, "t")} ` +
          `AND NOT EXISTS (SELECT 1 FROM ${stage} s WHERE s.${q(key)} = t.${q(key)})`,
      );
      await client.query(
        `INSERT INTO ${q(table.name)} AS t (${cols.join(", ")}) SELECT ${cols.join(", ")} FROM ${stage} ` +
          `ON CONFLICT (${q(key)}) DO UPDATE SET ${updatable.map((c) => `${c} = EXCLUDED.${c}`).join(", ")} ` +
          `WHERE (${updatable.map((c) => `t.${c}`).join(", ")}) IS DISTINCT FROM (${updatable.map((c) => `EXCLUDED.${c}`).join(", ")})`,
      );
      await client.query(`ALTER TABLE ${q(table.name)} ENABLE TRIGGER USER`);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/**
 * After the last range: remove target rows beyond the source's last key (the table mirrors the
 * source), then move the identity sequence past the largest id so the app's next insert works.
 */
export async function finishTable(
  client: Client,
  table: MigrationTable,
  lastKey: bigint | undefined,
): Promise<void> {
  const key = q(table.key.name);
  await client.query("BEGIN");
  try {
    await client.query(
      `DELETE FROM ${q(table.name)} WHERE ${lastKey === undefined ? "true" : `${key} > ${lastKey}`}`,
    );
    // setval(seq, max, true): the next value is max + 1; on an empty table restart at 1.
    await client.query(
      `SELECT setval(pg_get_serial_sequence($1, $2), coalesce(max(${key}), 1), max(${key}) IS NOT NULL) FROM ${q(table.name)}`,
      [q(table.name), table.key.name],
    );
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/** Tables the migration writes must exist (the migration runner creates them). */
export async function assertTargetTables(
  client: Client,
  tables: readonly MigrationTable[],
): Promise<string[]> {
  const result = await client.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()`,
  );
  const problems: string[] = [];
  for (const t of tables) {
    const present = new Set(
      result.rows.filter((r) => r.table_name === t.name).map((r) => r.column_name),
    );
    if (present.size === 0) problems.push(`table ${t.name} does not exist`);
    else
      for (const c of t.columns)
        if (!present.has(c.name)) problems.push(`${t.name}.${c.name} does not exist`);
  }
  return problems;
}
