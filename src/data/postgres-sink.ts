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
import type { Client, QueryConfig, QueryResult, QueryResultRow } from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { ToolError, type ErrorKind } from "../errors/tool-error";
import { unreachableMessage } from "../errors/network-errors";
import { connectPostgresClient, PostgresUrlError } from "../migrate/postgres-tls";
import type { KeyRange } from "./checksum";
import {
  BINARY_INT2,
  BINARY_INT4,
  BINARY_INT8,
  binaryKindOf,
  COPY_BINARY_HEADER,
  COPY_BINARY_TRAILER,
} from "./row-encoding";
import type { MigrationColumn, MigrationTable } from "./table-plan";

/** A failure of the Postgres target (`--postgres`): unreachable, credentials, refused data. */
export class PostgresTargetError extends ToolError {}

/** Problems of a `--postgres` URL found without connecting. */
export function postgresUrlProblems(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return ["--postgres is not a URL: expected postgres://user:password@host:port/database"];
  }
  if (!/^postgres(ql)?:$/.test(parsed.protocol)) {
    return [
      `--postgres must be a postgres:// URL (postgres://user:password@host:port/database), got ${parsed.protocol}//…`,
    ];
  }
  return [];
}

function describeUrl(url: string): { where: string; user: string; database: string } {
  try {
    const parsed = new URL(url);
    return {
      where: `${parsed.hostname || "localhost"}:${parsed.port || "5432"}`,
      user: decodeURIComponent(parsed.username) || "(default user)",
      database: decodeURIComponent(parsed.pathname.replace(/^\//, "")) || "(default database)",
    };
  } catch {
    return { where: "(unparseable URL)", user: "", database: "" };
  }
}

interface PgLikeError {
  readonly code?: string;
  readonly message?: string;
  readonly detail?: string;
}

/** SQLSTATEs of a session the server ended: shutdown, crash, restart, or an administrator. */
const SERVER_ENDED_SESSION = new Set(["57P01", "57P02", "57P03", "08006", "08003"]);
const LOST_SOCKET = new Set(["ECONNRESET", "EPIPE"]);
/** node-pg's messages for a socket that closed under it. */
const LOST_MESSAGES = [
  "Connection terminated unexpectedly",
  "Connection terminated",
  "Client has encountered a connection error and is not queryable",
];

/**
 * What a node-pg failure means for the user, as a `PostgresTargetError`; a failure it does not
 * recognise passes through unchanged (a bug, printed with its stack).
 */
export function postgresTargetError(error: unknown, url: string): Error {
  if (error instanceof ToolError) return error;
  const fail = (kind: ErrorKind, message: string) =>
    new PostgresTargetError(kind, message, { cause: error });
  if (error instanceof PostgresUrlError) return fail("usage", `--postgres: ${error.message}`);
  const e = (error ?? {}) as PgLikeError;
  const { where, user, database } = describeUrl(url);
  const unreachable = unreachableMessage(e.code, {
    server: "the Postgres target",
    where,
    flag: "--postgres",
  });
  if (unreachable !== undefined) return fail("unreachable", unreachable);
  switch (e.code) {
    case "28P01":
    case "28000":
      return fail(
        "auth",
        `the Postgres target at ${where} refused user "${user}" (${e.message}); check the user and password in --postgres`,
      );
    case "3D000":
      return fail(
        "config",
        `database "${database}" does not exist on the Postgres server at ${where}; create it and run \`synter-infra migrate up\` first`,
      );
    case "42501":
      return fail(
        "auth",
        `user "${user}" lacks a privilege on the Postgres target at ${where} (${e.message}); use the migrator role's URL for --postgres (it owns the tables)`,
      );
    case "53300":
      return fail(
        "unreachable",
        `the Postgres target at ${where} accepts no more connections (${e.message}); use fewer --workers`,
      );
    default:
      if (e.code !== undefined && SERVER_ENDED_SESSION.has(e.code)) {
        return fail(
          "unreachable",
          `lost the connection to the Postgres target at ${where} mid-run (${e.message})`,
        );
      }
      if (
        (e.code !== undefined && LOST_SOCKET.has(e.code)) ||
        LOST_MESSAGES.includes(e.message ?? "")
      ) {
        return fail(
          "unreachable",
          `lost the connection to the Postgres target at ${where} mid-run (${e.code ?? "connection closed"})`,
        );
      }
      if (
        e.message?.includes("timeout expired") ||
        e.message?.includes("Connection terminated due to connection timeout")
      ) {
        return fail(
          "unreachable",
          `cannot reach the Postgres target at ${where}: connection timed out after 10 s`,
        );
      }
      return error instanceof Error ? error : new Error(String(error));
  }
}

/** Each client's URL, so a failure of any query on it can name the server. */
const clientUrls = new WeakMap<Client, string>();

function failureOf(client: Client, error: unknown): Error {
  return postgresTargetError(error, clientUrls.get(client) ?? "");
}

/** `client.query`, with a failure turned into a `PostgresTargetError` where it is one. */
export async function queryPostgres<R extends QueryResultRow>(
  client: Client,
  query: string | QueryConfig,
): Promise<QueryResult<R>> {
  try {
    return await client.query<R>(query);
  } catch (error) {
    throw failureOf(client, error);
  }
}

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

function rangeCondition(column: string, range: KeyRange, alias = ""): string {
  const col = alias ? `${alias}.${q(column)}` : q(column);
  const conditions = ["true"];
  if (range.after !== undefined) conditions.push(`${col} > ${range.after}`);
  if (range.upTo !== undefined) conditions.push(`${col} <= ${range.upTo}`);
  return conditions.join(" AND ");
}

export async function connectPostgres(url: string): Promise<Client> {
  let client: Client;
  try {
    client = await connectPostgresClient(url, {
      application_name: "synter-data-migrate",
      connectionTimeoutMillis: 10_000,
    });
    // Migrated values carry explicit offsets; UTC keeps any text we print unambiguous too, and
    // ISO output is what the checksum's datetime normal form pads (`checksum.ts`), whatever
    // DateStyle the server or the role sets.
    await client.query("SET TIME ZONE 'UTC'; SET DateStyle = 'ISO, YMD'");
  } catch (error) {
    throw postgresTargetError(error, url);
  }
  clientUrls.set(client, url);
  return client;
}

/**
 * SQLSTATE classes of a row the target refused: data exceptions (22: numeric overflow, a value
 * too long, a NUL byte) and integrity violations (23: a foreign key, a unique key). The conversion
 * rejects every value it knows a target cannot hold; one that still gets here stops the run on a
 * one-line error naming the range, not a crash.
 */
const REFUSED_DATA = /^2[23]/;

function writeFailure(
  client: Client,
  table: MigrationTable,
  range: KeyRange,
  error: unknown,
): Error {
  const e = (error ?? {}) as PgLikeError;
  if (e.code !== undefined && REFUSED_DATA.test(e.code)) {
    return new PostgresTargetError(
      "mismatch",
      `Postgres refused a row of ${table.name} in key range (${range.after ?? "start"}, ${range.upTo ?? "end"}]: ${e.message}${e.detail ? ` (${e.detail})` : ""}; nothing of that range was written`,
      { cause: error },
    );
  }
  return failureOf(client, error);
}

/**
 * The binary COPY kind of each of the table's columns, from the target's own column types
 * (`binaryKindOf`); undefined when some column has a type not written in binary here, or is an
 * integer type narrower than the range schema/ gives the column (text COPY then lets Postgres
 * refuse a value that does not fit, as it always did).
 */
export async function binaryCopyKinds(
  client: Client,
  table: MigrationTable,
): Promise<Uint8Array | undefined> {
  const result = await queryPostgres<{ name: string; type: string; typtype: string }>(client, {
    text:
      "SELECT a.attname AS name, t.typname AS type, t.typtype::text AS typtype FROM pg_attribute a " +
      "JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped",
    values: [q(table.name)],
  });
  const types = new Map(result.rows.map((r) => [r.name, r]));
  const kinds = new Uint8Array(table.columns.length);
  for (let i = 0; i < table.columns.length; i++) {
    const column = table.columns[i];
    const type = types.get(column.name);
    const kind = type && binaryKindOf(column.value.kind, type.type, type.typtype);
    if (kind === undefined || !holdsSchemaRange(kind, column)) return undefined;
    kinds[i] = kind;
  }
  return kinds;
}

const BINARY_INTEGER_RANGES: Record<number, readonly [bigint, bigint]> = {
  [BINARY_INT2]: [-(2n ** 15n), 2n ** 15n - 1n],
  [BINARY_INT4]: [-(2n ** 31n), 2n ** 31n - 1n],
  [BINARY_INT8]: [-(2n ** 63n), 2n ** 63n - 1n],
};

/** Whether an integer column's binary type holds every value its schema/ limits let through. */
function holdsSchemaRange(kind: number, column: MigrationColumn): boolean {
  const range = BINARY_INTEGER_RANGES[kind];
  if (range === undefined) return true;
  const { min, max } = column.limits ?? {};
  return min !== undefined && max !== undefined && min >= range[0] && max <= range[1];
}

/**
 * Streams the page's rows (UTF-8 COPY text, or binary rows between the format's header and
 * trailer) into `COPY <target> (<columns>) FROM STDIN`, with backpressure.
 */
async function copyChunks(
  client: Client,
  target: string,
  table: MigrationTable,
  chunks: readonly Buffer[],
  binary: boolean,
): Promise<void> {
  const columns = table.columns.map((c) => q(c.name)).join(", ");
  const format = binary ? " (FORMAT binary)" : "";
  const stream = client.query(copyFrom(`COPY ${target} (${columns}) FROM STDIN${format}`));
  const done = new Promise<void>((resolve, reject) => {
    stream.on("finish", resolve);
    stream.on("error", reject);
  });
  const all = binary ? [COPY_BINARY_HEADER, ...chunks, COPY_BINARY_TRAILER] : chunks;
  for (const chunk of all) {
    if (!stream.write(chunk)) await new Promise((r) => stream.once("drain", r));
  }
  stream.end();
  await done;
}

/** `rows`: the range's rows as COPY text, or in COPY's binary format when `binary`. */
export async function writeRange(
  client: Client,
  table: MigrationTable,
  range: KeyRange,
  rows: readonly Buffer[],
  binary = false,
): Promise<void> {
  try {
    await writeRangeOnce(client, table, range, rows, binary);
  } catch (error) {
    throw writeFailure(client, table, range, error);
  }
}

async function writeRangeOnce(
  client: Client,
  table: MigrationTable,
  range: KeyRange,
  rows: readonly Buffer[],
  binary: boolean,
): Promise<void> {
  const key = table.key.name;
  await client.query("BEGIN");
  try {
    const existing = await client.query(
      `SELECT EXISTS (SELECT 1 FROM ${q(table.name)} WHERE ${rangeCondition(key, range)}) AS present`,
    );
    if (!existing.rows[0].present) {
      await copyChunks(client, q(table.name), table, rows, binary);
    } else {
      const stage = q(`synter_stage_${table.name}`);
      await client.query(
        `CREATE TEMP TABLE IF NOT EXISTS ${stage} (LIKE ${q(table.name)} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`,
      );
      await copyChunks(client, stage, table, rows, binary);
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
 * Removes the target rows of `range`: a segment's range past its last source row, which no page
 * covered (rows the source deleted since an earlier run copied them).
 */
export async function deleteRange(
  client: Client,
  table: MigrationTable,
  range: KeyRange,
): Promise<void> {
  try {
    await client.query(
      `DELETE FROM ${q(table.name)} WHERE ${rangeCondition(table.key.name, range)}`,
    );
  } catch (error) {
    throw writeFailure(client, table, range, error);
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
  try {
    await finishTableOnce(client, table, lastKey);
  } catch (error) {
    throw writeFailure(client, table, { after: lastKey }, error);
  }
}

async function finishTableOnce(
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
  const result = await queryPostgres<{ table_name: string; column_name: string }>(
    client,
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

/**
 * Connections to the target that the main thread lends to its short jobs (a table's checksum
 * once it is copied, a segmented table's finish), each taken back once its job is done instead of
 * one connection per job: a Postgres connection costs about 14 ms of CPU between the two sides,
 * and a small hosted database has few to give. A job that fails ends its connection (it may have
 * broken), so a later job never inherits one in an unknown state.
 */
export class LentTargetClients {
  private readonly idle: Client[] = [];
  private closed = false;

  constructor(private readonly url: string) {}

  async use<T>(job: (client: Client) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error("LentTargetClients used after close");
    const client = this.idle.pop() ?? (await connectPostgres(this.url));
    let result: T;
    try {
      result = await job(client);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.closed) await client.end().catch(() => undefined);
    else this.idle.push(client);
    return result;
  }

  /** Ends every connection not lent out; one lent out ends when its job is done. */
  async close(): Promise<void> {
    this.closed = true;
    const idle = this.idle.splice(0);
    await Promise.all(idle.map((client) => client.end().catch(() => undefined)));
  }
}
