/**
 * Reading the legacy database (SingleStore, or MariaDB standing in for it) over the MySQL protocol.
 * Every value is kept as its wire text: DECIMAL as digits (never a float), DATETIME(6) as text
 * (never a JS Date), JSON as its stored text, BIGINT as digits. mysql2's own parsers do this with
 * the options below; only small integers (INT, TINYINT) come as numbers, exact by construction,
 * and are turned back into digits (a custom `typeCast` would do it too, at a closure per value).
 * Tables are read in key order by
 * keyset pagination (`WHERE key > last ORDER BY key LIMIT n`), so each page is a key range that
 * can be committed and checkpointed on its own.
 */
import type { Connection as CoreConnection } from "mysql2";
import {
  createConnection,
  type Connection,
  type FieldPacket,
  type QueryOptions,
} from "mysql2/promise";
import { ToolError, type ErrorKind } from "../errors/tool-error";
import { unreachableMessage } from "../errors/network-errors";
import { redactUrl } from "./checkpoint";
import { mysqlId, mysqlRangeCondition, type KeyRange } from "./checksum";
import { latin1Text } from "./page-buffer";
import type { MigrationTable } from "./table-plan";

/** A failure of the legacy database (`--source`): unreachable, credentials, a missing database. */
export class SourceDatabaseError extends ToolError {}

const SOURCE_SCHEMES = new Set(["mysql:", "mariadb:"]);

/**
 * Problems of a `--source` URL found without connecting. A Postgres URL given as the source would
 * otherwise wait 10 s for a MySQL handshake that never comes.
 */
export function sourceUrlProblems(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return ["--source is not a URL: expected mysql://user:password@host:port/database"];
  }
  if (/^postgres(ql)?:$/.test(parsed.protocol)) {
    return [
      `--source ${redactUrl(url)} is a Postgres URL; --source is the legacy SingleStore/MySQL database (mysql://user:password@host:port/database), the Postgres target goes in --postgres`,
    ];
  }
  if (!SOURCE_SCHEMES.has(parsed.protocol)) {
    return [
      `--source must be a mysql:// URL (mysql://user:password@host:port/database), got ${parsed.protocol}//…`,
    ];
  }
  if (parsed.pathname.replace(/^\//, "") === "") {
    return [
      `--source ${redactUrl(url)} names no database: mysql://user:password@host:port/database`,
    ];
  }
  return [];
}

/** `host:port` of a URL (default port 3306), for messages: never the credentials. */
function hostOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || "localhost"}:${parsed.port || "3306"}`;
  } catch {
    return "(unparseable URL)";
  }
}

function databaseOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.replace(/^\//, ""));
  } catch {
    return "";
  }
}

function userOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).username) || "(no user)";
  } catch {
    return "(no user)";
  }
}

interface MysqlLikeError {
  readonly code?: string;
  readonly errno?: number;
  readonly sqlMessage?: string;
  readonly message?: string;
  /** mysql2: the connection is unusable after this error. */
  readonly fatal?: boolean;
}

/** Codes of a connection that was there and is gone: the server died, restarted or cut us off. */
const LOST_CONNECTION = new Set([
  "PROTOCOL_CONNECTION_LOST",
  "ECONNRESET",
  "EPIPE",
  "ER_SERVER_SHUTDOWN",
  "ER_CONNECTION_KILLED",
  "ER_QUERY_INTERRUPTED",
  "ER_NET_READ_ERROR",
  "ER_NET_ERROR_ON_WRITE",
]);

/**
 * What a mysql2 failure means for the user, as a `SourceDatabaseError`; a failure it does not
 * recognise passes through unchanged (a bug, printed with its stack).
 */
export function sourceDatabaseError(error: unknown, url: string): Error {
  if (error instanceof ToolError) return error;
  const e = (error ?? {}) as MysqlLikeError;
  const where = hostOf(url);
  const fail = (kind: ErrorKind, message: string) =>
    new SourceDatabaseError(kind, message, { cause: error });
  const unreachable = unreachableMessage(e.code, {
    server: "the source database",
    where,
    flag: "--source",
    timedOut: "timed out after 10 s (is the host reachable, and is it a SingleStore/MySQL server?)",
  });
  if (unreachable !== undefined) return fail("unreachable", unreachable);
  switch (e.code) {
    case "ER_ACCESS_DENIED_ERROR":
    case "ER_DBACCESS_DENIED_ERROR":
    case "ER_ACCESS_DENIED_NO_PASSWORD_ERROR":
      return fail(
        "auth",
        `the source database at ${where} refused user "${userOf(url)}" (${e.sqlMessage ?? e.message}); check the user and password in --source`,
      );
    case "ER_TABLEACCESS_DENIED_ERROR":
    case "ER_COLUMNACCESS_DENIED_ERROR":
      return fail(
        "auth",
        `user "${userOf(url)}" may not read the source database at ${where} (${e.sqlMessage ?? e.message}); grant it SELECT on the legacy tables`,
      );
    case "ER_BAD_DB_ERROR":
      return fail(
        "config",
        `database "${databaseOf(url)}" does not exist on the source server at ${where}; check the database name in --source`,
      );
    case "ER_CON_COUNT_ERROR":
    case "ER_TOO_MANY_USER_CONNECTIONS":
      return fail(
        "unreachable",
        `the source database at ${where} accepts no more connections (${e.sqlMessage ?? e.message}); use fewer --workers`,
      );
    default:
      // A fatal error without a code: a command on a connection that is already closed.
      if ((e.code !== undefined && LOST_CONNECTION.has(e.code)) || (e.fatal && !e.code)) {
        const reason =
          e.code === undefined
            ? "it is closed"
            : e.code === "PROTOCOL_CONNECTION_LOST"
              ? "the server closed it"
              : e.code;
        return fail(
          "unreachable",
          `lost the connection to the source database at ${where} mid-run (${reason})`,
        );
      }
      return error instanceof Error ? error : new Error(String(error));
  }
}

/** Each connection's URL, so a failure of any query on it can name the server. */
const sourceUrls = new WeakMap<Connection, string>();
/** The error that closed a connection, so a later command on it reports that cause. */
const closedBy = new WeakMap<Connection, unknown>();

function failureOf(connection: Connection, error: unknown): Error {
  const e = (error ?? {}) as MysqlLikeError;
  const cause = e.fatal && !e.code ? (closedBy.get(connection) ?? error) : error;
  return sourceDatabaseError(cause, sourceUrls.get(connection) ?? "");
}

export async function connectSource(url: string): Promise<Connection> {
  let connection: Connection;
  try {
    connection = await createConnection({
      uri: url,
      charset: "utf8mb4_unicode_ci",
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
      decimalNumbers: false,
      jsonStrings: true,
      // The legacy timestamps are UTC; a session time zone must not shift anything we compute.
      timezone: "Z",
    });
    // A server that dies while idle would otherwise be an unhandled 'error' event.
    const opened = connection;
    connection.on("error", (error: unknown) => {
      if (!closedBy.has(opened)) closedBy.set(opened, error);
    });
    await connection.query("SET time_zone = '+00:00'");
  } catch (error) {
    throw sourceDatabaseError(error, url);
  }
  sourceUrls.set(connection, url);
  return connection;
}

/** `connection.query`, with a failure turned into a `SourceDatabaseError` where it is one. */
export async function querySource(
  connection: Connection,
  options: QueryOptions,
): Promise<unknown[]> {
  try {
    const [rows] = await connection.query(options);
    return rows as unknown[];
  } catch (error) {
    throw failureOf(connection, error);
  }
}

/**
 * Streams the next page after `after` (exclusive) to `onRow`, row by row as the protocol delivers
 * them, and resolves to the page's key range (undefined when there are no more rows). Rows are
 * handled while the rest of the page is still arriving, and each raw row is garbage as soon as it
 * is handled: a whole buffered page of raw values outlived the young generation and was promoted,
 * which made garbage collection the copy's largest cost.
 */
export function streamPage(
  connection: Connection,
  table: MigrationTable,
  after: bigint | undefined,
  pageSize: number,
  upTo: bigint | undefined,
  extras: readonly string[],
  onRow: (raw: (string | null)[]) => void,
): Promise<{ readonly after?: bigint; readonly upTo: bigint } | undefined> {
  return runPageQuery(connection, table, { after, upTo }, pageSize, extras, { decoded: onRow });
}

/**
 * One row of a page as the protocol's bytes (`streamWirePage`): each selected value is
 * `buffer[start[i], end[i])`, or NULL where `start[i]` is -1. The object and its arrays are reused
 * for every row of a page: valid only during the `onRow` call.
 */
export interface WireRow {
  buffer: Buffer;
  readonly start: Int32Array;
  readonly end: Int32Array;
  /**
   * True when every column's bytes are its text as the decoded path reads it: UTF-8 strings,
   * digits, dates. A column of another character set, or a type whose value mysql2 turns into
   * something else (a BIT as a Buffer), makes it false for the whole page.
   */
  bytesAreText: boolean;
  /**
   * Per selected column, 1 where mysql2 reads it as a number (a small integer type): its decoded
   * text is the number's digits, which are its bytes only when those are canonical.
   */
  readonly numeric: Uint8Array;
  /** The row as `streamPage` gives it: decoded by mysql2 itself, small integers as digits. */
  decode(): (string | null)[];
}

/**
 * `streamPage`, handing each row over as its bytes in the packet (`WireRow`) instead of one string
 * per value: what mysql2 spends decoding them is a good part of an analytics lane's time, and the
 * fast path (`wire-rows.ts`) needs the bytes anyway. `row.decode()` gives the decoded row for the
 * rows the fast path does not take.
 */
export function streamWirePage(
  connection: Connection,
  table: MigrationTable,
  after: bigint | undefined,
  pageSize: number,
  upTo: bigint | undefined,
  extras: readonly string[],
  onRow: (row: WireRow) => void,
): Promise<{ readonly after?: bigint; readonly upTo: bigint } | undefined> {
  return runPageQuery(connection, table, { after, upTo }, pageSize, extras, { wire: onRow });
}

/** mysql2's packet (lib/packets/packet.js): the payload is `buffer[offset, end)` before reading. */
interface ProtocolPacket {
  readonly buffer: Buffer;
  offset: number;
  readonly end: number;
  isEOF(): boolean;
  reset(): void;
}

/**
 * What of mysql2's Query command (lib/commands/query.js, 3.x) the wire path relies on: its state
 * `row` handles each row packet and returns the next state, and `fieldsEOF` moves to `this.row`,
 * so an own `row` on the command replaces it for the whole result; `_rowParser.next` is the
 * decoder it would have used. Checked by the wire tests (test/data/wire-rows.test.ts), which fail
 * if a mysql2 release changes it.
 */
interface QueryCommand {
  row: (this: QueryCommand, packet: ProtocolPacket, connection: unknown) => unknown;
  readonly _rowParser: {
    next(packet: ProtocolPacket, fields: unknown, options: unknown): (string | number | null)[];
  };
  readonly _currentFields: unknown;
  readonly options: unknown;
}

function runPageQuery(
  connection: Connection,
  table: MigrationTable,
  range: { readonly after?: bigint; readonly upTo?: bigint },
  pageSize: number,
  extras: readonly string[],
  handler:
    | { readonly decoded: (raw: (string | null)[]) => void; readonly wire?: undefined }
    | { readonly wire: (row: WireRow) => void; readonly decoded?: undefined },
): Promise<{ readonly after?: bigint; readonly upTo: bigint } | undefined> {
  const { after, upTo } = range;
  const selected = [...table.columns.map((c) => mysqlId(c.legacy.column)), ...extras];
  const key = mysqlId(table.key.legacy.column);
  const sql =
    `SELECT ${selected.join(", ")} FROM ${mysqlId(table.legacyTable)} ` +
    `WHERE ${mysqlRangeCondition(table, { after, upTo }, [])} ORDER BY ${key} LIMIT ${pageSize}`;
  const keyIndex = table.columns.indexOf(table.key);
  // The promise wrapper has no row events; its underlying connection does.
  const core = (connection as unknown as { connection: CoreConnection }).connection;
  return new Promise((resolve, reject) => {
    let numeric: number[] = [];
    let lastKey: string | undefined;
    let failure: unknown;
    // A streamed query has no callback, so mysql2 reports a lost connection (the server died) on
    // the connection only, and the query never ends: without this the page would wait forever.
    const onConnectionError = (error: Error) => {
      core.off("error", onConnectionError);
      reject(failureOf(connection, error));
    };
    core.on("error", onConnectionError);
    /** mysql2's decoded row, small integers back to digits. */
    const decoded = (row: (string | number | null)[]) => {
      for (const index of numeric)
        if (typeof row[index] === "number") row[index] = String(row[index]);
      return row as (string | null)[];
    };
    const query = core.query({ sql, rowsAsArray: true });
    let wire: WireRow | undefined;
    let lastKeyBuffer: Buffer | undefined;
    let lastKeyStart = 0;
    let lastKeyEnd = 0;
    if (handler.wire) {
      const command = query as unknown as QueryCommand;
      const decodedRow = command.row;
      const onRow = handler.wire;
      let packet: ProtocolPacket | undefined;
      const row: WireRow = {
        buffer: Buffer.alloc(0),
        start: new Int32Array(selected.length),
        end: new Int32Array(selected.length),
        bytesAreText: false,
        numeric: new Uint8Array(selected.length),
        decode: () => {
          packet!.reset();
          return decoded(command._rowParser.next(packet!, command._currentFields, command.options));
        },
      };
      wire = row;
      const wireRow = function (this: QueryCommand, p: ProtocolPacket, c: unknown): unknown {
        if (p.isEOF()) return decodedRow.call(this, p, c);
        if (failure !== undefined) return wireRow;
        packet = p;
        try {
          readRowOffsets(p, row);
          // The key as text only for the page's last row: a string per row cost more.
          lastKeyBuffer = row.buffer;
          lastKeyStart = row.start[keyIndex];
          lastKeyEnd = row.end[keyIndex];
          onRow(row);
        } catch (error) {
          failure = error;
        }
        return wireRow;
      };
      command.row = wireRow;
    }
    query
      .on("fields", (fields: FieldPacket[]) => {
        try {
          numeric = numericColumns(table, fields);
          if (wire) {
            wire.bytesAreText = fields.every(bytesAreText);
            wire.numeric.fill(0);
            for (const index of numeric) wire.numeric[index] = 1;
          }
        } catch (error) {
          failure ??= error;
        }
      })
      .on("result", (row: (string | number | null)[]) => {
        if (failure !== undefined) return;
        const raw = decoded(row);
        lastKey = raw[keyIndex]!;
        try {
          handler.decoded!(raw);
        } catch (error) {
          failure = error;
        }
      })
      .on("error", (error: Error) => {
        failure ??= failureOf(connection, error);
      })
      .on("end", () => {
        core.off("error", onConnectionError);
        if (lastKeyBuffer) lastKey = latin1Text(lastKeyBuffer, lastKeyStart, lastKeyEnd);
        if (failure !== undefined) reject(failure as Error);
        else resolve(lastKey === undefined ? undefined : { after, upTo: BigInt(lastKey) });
      });
  });
}

/**
 * Where each value of a text-protocol row packet lies: a length-encoded integer (one byte below
 * 0xfb; 0xfc, 0xfd, 0xfe then 2, 3 or 8 bytes; 0xfb is NULL), then that many bytes.
 */
function readRowOffsets(packet: ProtocolPacket, row: WireRow): void {
  const b = packet.buffer;
  const { start, end } = row;
  let o = packet.offset;
  for (let i = 0; i < start.length; i++) {
    const tag = b[o++];
    let length: number;
    if (tag < 0xfb) length = tag;
    else if (tag === 0xfb) {
      start[i] = -1;
      end[i] = -1;
      continue;
    } else if (tag === 0xfc) {
      length = b[o] | (b[o + 1] << 8);
      o += 2;
    } else if (tag === 0xfd) {
      length = b[o] | (b[o + 1] << 8) | (b[o + 2] << 16);
      o += 3;
    } else {
      if (o + 8 > packet.end) throw truncatedRow(o + 8 - packet.end);
      length = b.readUInt32LE(o) + b.readUInt32LE(o + 4) * 0x100000000;
      o += 8;
    }
    start[i] = o;
    o += length;
    end[i] = o;
  }
  if (o > packet.end) throw truncatedRow(o - packet.end);
  row.buffer = b;
}

function truncatedRow(missing: number): SourceDatabaseError {
  return new SourceDatabaseError(
    "unreachable",
    `a row packet of the source is shorter than its values (${missing} bytes missing): the connection is corrupt; run again`,
  );
}

/** Character sets whose bytes are UTF-8: utf8mb4 and utf8mb3 (mysql2's encoding name for both). */
const UTF8 = "utf8";
/** Types read as ASCII or binary text by mysql2 (decimals, dates, BIGINT): their bytes are it. */
const TEXT_TYPES = new Set([0, 246, 8, 10, 7, 12, 245]); // DECIMAL, NEWDECIMAL, LONGLONG, DATE, TIMESTAMP, DATETIME, JSON
/** VARCHAR, VAR_STRING, STRING and the text types: their bytes are the text in their encoding. */
const STRING_TYPES = new Set([15, 253, 254, 249, 250, 251, 252]);

/** Whether mysql2's decoded value of this column is its bytes read as UTF-8 (see `WireRow`). */
function bytesAreText(field: FieldPacket): boolean {
  const type = field.columnType ?? field.type ?? 0;
  if (SMALL_INTEGER_TYPES.has(type) || TEXT_TYPES.has(type)) return true;
  return (
    STRING_TYPES.has(type) &&
    field.characterSet !== BINARY_CHARSET &&
    (field as FieldPacket & { encoding?: string }).encoding === UTF8
  );
}

export async function countSourceRows(
  connection: Connection,
  table: MigrationTable,
  range: KeyRange = {},
): Promise<number> {
  const rows = await querySource(connection, {
    sql: `SELECT COUNT(*) FROM ${mysqlId(table.legacyTable)} WHERE ${mysqlRangeCondition(table, range, [])}`,
    rowsAsArray: true,
  });
  return Number((rows as string[][])[0][0]);
}

export async function keyBounds(
  connection: Connection,
  table: MigrationTable,
): Promise<KeyRange | undefined> {
  const key = mysqlId(table.key.legacy.column);
  const rows = await querySource(connection, {
    sql: `SELECT MIN(${key}), MAX(${key}) FROM ${mysqlId(table.legacyTable)}`,
    rowsAsArray: true,
  });
  const [min, max] = (rows as (string | null)[][])[0];
  if (min === null || max === null) return undefined;
  return { after: BigInt(min) - 1n, upTo: BigInt(max) };
}

/** A source column arrives as a type the copy cannot read exactly (float, binary). */
export class SourceTypeError extends ToolError {
  constructor(message: string) {
    super("mismatch", message);
  }
}

/** MySQL protocol column types (see mysql2's constants/types). */
const SMALL_INTEGER_TYPES = new Set([1, 2, 3, 9, 13]); // TINY, SHORT, LONG, INT24, YEAR
const FLOATING_TYPES = new Set([4, 5]); // FLOAT, DOUBLE
const BINARY_CHARSET = 63;
const BLOB_TYPES = new Set([249, 250, 251, 252, 253, 254]);

/**
 * Indexes of the columns mysql2 hands back as JS numbers (small integers: exact). A floating-point
 * or binary column would lose exactness or arrive as bytes, so it stops the run instead.
 */
function numericColumns(table: MigrationTable, fields: FieldPacket[]): number[] {
  const indexes: number[] = [];
  fields.forEach((field, index) => {
    const type = field.columnType ?? field.type ?? 0;
    if (SMALL_INTEGER_TYPES.has(type)) indexes.push(index);
    else if (
      FLOATING_TYPES.has(type) ||
      (BLOB_TYPES.has(type) && field.characterSet === BINARY_CHARSET)
    ) {
      throw new SourceTypeError(
        `${table.legacyTable}.${field.name} is a ${FLOATING_TYPES.has(type) ? "floating-point" : "binary"} column in the source; ` +
          "the migration reads only exact text and integer types (see schema/ for the expected legacy types); nothing of this range was written",
      );
    }
  });
  return indexes;
}
