/**
 * The verification of a data migration, scheduled on the worker pool: `data verify` (the full scan
 * of both sides, `Verification`) and the check at the end of `data migrate`, which is mostly done by
 * then: the lanes hash every row on both sides as they copy it (`verifyAfterCopy`). Each table's
 * checksums themselves are computed on the workers (`table-checksums.ts`).
 */
import { ToolError } from "../errors/tool-error";
import type { MigrationState, TableState } from "./checkpoint";
import { sameChecksum, type Checksum, type KeyRange } from "./checksum";
import { splitKeyRange } from "./key-ranges";
import {
  analyticsTargetName,
  assertTargets,
  loadFilesDir,
  type MigrationTargets,
} from "./migration-targets";
import { readRejects, rejectedKeys } from "./rejects";
import { connectSource, countSourceRows, keyBounds } from "./source";
import { checkSourceSchema } from "./source-schema";
import type { MigrationTable } from "./table-plan";
import type { LentTargetClients } from "./postgres-sink";
import {
  postgresChecksum,
  type TableVerification,
  type VerifyTaskOptions,
} from "./table-checksums";
import { WorkerPool } from "./worker-pool";

export interface VerifyOptions extends MigrationTargets {
  readonly workers?: number;
}

/** Tables whose target differs from the source; one line per table, naming the key ranges. */
export class VerificationMismatchError extends ToolError {
  constructor(readonly tables: readonly TableVerification[]) {
    super("mismatch", tables.map(describeMismatch).join("\n"));
  }
}

export function describeMismatch(v: TableVerification): string {
  const ranges = v.mismatchedRanges.map((r) => `(${r.after}, ${r.upTo}]`).join(", ");
  return (
    `${v.table}: ${v.target} differs from the source (source ${v.source.rows} rows, checksum ${v.source.sum}; ` +
    `${v.target} ${v.destination.rows} rows, checksum ${v.destination.sum})` +
    (ranges ? `; differing key range(s) ${ranges}` : "")
  );
}

/** `data verify`: every table verified by the full scan of both sides, on a fresh worker pool. */
export async function verify(options: VerifyOptions): Promise<TableVerification[]> {
  assertTargets(options);
  // Only what verification needs: every table and column it reads exists in the source.
  const source = await connectSource(options.sourceUrl);
  try {
    await checkSourceSchema(source, options.tables, true);
  } finally {
    await source.end().catch(() => undefined);
  }
  const pool = new WorkerPool(options.workers);
  try {
    return await new Verification(pool, options).run();
  } finally {
    await pool.close();
  }
}

/**
 * Large tables are verified in key ranges of about this many rows, in parallel (the checksum is a
 * sum, so ranges add up); the target side of a range can start as soon as the copy is past it.
 */
const VERIFY_CHUNK_ROWS = 125_000;
const MAX_VERIFY_CHUNKS = 16;
/** Below this many source rows a table is checked in one piece. */
const CHUNKED_TABLE_ROWS = 100_000;

function verifyTaskOptions(options: MigrationTargets): VerifyTaskOptions {
  return {
    sourceUrl: options.sourceUrl,
    postgresUrl: options.postgresUrl,
    bigquery: options.bigquery,
    filesDir: loadFilesDir(options),
  };
}

/**
 * The Postgres table's own checksum of what it holds, started on the main thread as soon as the
 * table's copy is done: Postgres computes it while the other lanes still copy, and
 * `verifyAfterCopy` takes the result instead of queueing a scan behind them.
 */
export function startPostgresChecksum(
  clients: LentTargetClients,
  table: MigrationTable,
): Promise<Checksum> {
  const checksum = clients.use((client) => postgresChecksum(client, table)({}));
  checksum.catch(() => undefined);
  return checksum;
}

/** One table verified by the full scan of both sides, bisecting on a mismatch, on a worker. */
function verifyJob(
  pool: WorkerPool,
  task: VerifyTaskOptions,
  table: string,
  excluded: string[],
): Promise<TableVerification> {
  let result: TableVerification | undefined;
  return pool
    .run({ kind: "verify", options: task, table, excluded }, (reply) => {
      if ("verified" in reply) result = reply.verified;
    })
    .then(() => result!);
}

/** One side's checksum of a key range of a table, on a worker. */
function checksumJob(
  pool: WorkerPool,
  task: VerifyTaskOptions,
  table: string,
  excluded: string[],
  range: KeyRange,
  side: "source" | "target",
): Promise<Checksum> {
  let result: Checksum | undefined;
  return pool
    .run({ kind: "checksum", options: task, table, excluded, range, side }, (reply) => {
      if ("checksum" in reply) result = reply.checksum;
    })
    .then(() => result!);
}

/** A table's inline sums, when every range of it (every segment) was hashed as it was copied. */
function inlineTotals(
  table: TableState,
): { sourceCount: number; sourceSum: bigint; targetSum?: bigint } | undefined {
  const parts = table.segments ?? [table];
  if (!parts.every((p) => p.inline?.sourceCount !== undefined)) return undefined;
  const files = parts.every((p) => p.inline!.targetSum !== undefined);
  return {
    sourceCount: parts.reduce((n, p) => n + p.inline!.sourceCount!, 0),
    sourceSum: parts.reduce((sum, p) => sum + BigInt(p.inline!.sourceSum), 0n),
    ...(files
      ? { targetSum: parts.reduce((sum, p) => sum + BigInt(p.inline!.targetSum!), 0n) }
      : {}),
  };
}

/**
 * The verification at the end of `migrate`. The source's side was computed during the copy: the
 * normal form of every row the copy read, hashed from its raw values after the source's own CRC
 * of the row proved them (`row-crc.ts`), and the source's `COUNT(*)` of each key range, so the
 * source is not scanned a second time. The target's side is the
 * target's own SQL over the whole table (Postgres, BigQuery after its load), or for load files the
 * hash of every row as written (`data verify` re-reads and decodes the files). A table without
 * complete inline sums (copied partly with `--no-verify`, or by an earlier version) and a table
 * that differs are verified by the full scan of `data verify`, which also names the key ranges.
 */
export async function verifyAfterCopy(
  pool: WorkerPool,
  options: MigrationTargets,
  state: MigrationState,
  /** Postgres checksums started when their table's copy was done (`startPostgresChecksum`). */
  started: ReadonlyMap<string, Promise<Checksum>> = new Map(),
): Promise<TableVerification[]> {
  const task = verifyTaskOptions(options);
  const targetName = analyticsTargetName(options);
  const rejects = readRejects(options.stateDir);
  const fullScan = (table: MigrationTable) =>
    verifyJob(pool, task, table.name, rejectedKeys(rejects, table.name));
  const targetChecksum = (table: MigrationTable) =>
    checksumJob(pool, task, table.name, [], {}, "target");
  return Promise.all(
    options.tables.map(async (table): Promise<TableVerification> => {
      const tableState = state.tables[table.name];
      const totals = inlineTotals(tableState);
      if (!totals) return fullScan(table);
      const source: Checksum = {
        rows: totals.sourceCount - tableState.rejected,
        sum: totals.sourceSum.toString(),
      };
      const destination: Checksum =
        totals.targetSum !== undefined
          ? { rows: tableState.rows, sum: totals.targetSum.toString() }
          : await (started.get(table.name) ?? targetChecksum(table));
      if (!sameChecksum(source, destination)) return fullScan(table);
      return {
        table: table.name,
        target: table.target === "postgres" ? "postgres" : targetName,
        source,
        destination,
        ok: true,
        mismatchedRanges: [],
      };
    }),
  );
}

/**
 * The full verification of every table on a worker pool (`data verify`): both sides' checksums per
 * key range (large tables in several ranges, in parallel), summed per table; a table that differs
 * is then verified again whole, which bisects its key range to name where it differs. Rejected
 * rows are left out of the source's checksum.
 */
class Verification {
  private readonly task: VerifyTaskOptions;
  private readonly chunks = new Map<string, KeyRange[]>();

  constructor(
    private readonly pool: WorkerPool,
    private readonly options: VerifyOptions,
  ) {
    this.task = verifyTaskOptions(options);
  }

  async run(): Promise<TableVerification[]> {
    await this.planChunks();
    const rejects = readRejects(this.options.stateDir);
    const sums = this.options.tables.map((t) => {
      const excluded = rejectedKeys(rejects, t.name);
      return {
        table: t,
        excluded,
        source: this.sum(t.name, "source", excluded),
        target: this.sum(t.name, "target", []),
      };
    });
    const results = new Map<string, TableVerification>();
    const targetName = analyticsTargetName(this.options);
    const differing: { table: MigrationTable; excluded: string[] }[] = [];
    for (const { table, excluded, source, target } of sums) {
      const s = await source;
      const d = await target;
      const ok = s.rows === d.rows && s.total === d.total;
      results.set(table.name, {
        table: table.name,
        target: table.target === "postgres" ? "postgres" : targetName,
        source: s.result(),
        destination: d.result(),
        ok,
        mismatchedRanges: [],
      });
      if (!ok) differing.push({ table, excluded });
    }
    await Promise.all(
      differing.map(async ({ table, excluded }) => {
        results.set(table.name, await verifyJob(this.pool, this.task, table.name, excluded));
      }),
    );
    return this.options.tables.map((t) => results.get(t.name)!);
  }

  /** Each table's key ranges: large tables in several, so both sides run on every core. */
  private async planChunks(): Promise<void> {
    const source = await connectSource(this.options.sourceUrl);
    try {
      for (const table of this.options.tables) {
        const rows = await countSourceRows(source, table);
        const parts =
          rows >= CHUNKED_TABLE_ROWS
            ? Math.min(MAX_VERIFY_CHUNKS, Math.ceil(rows / VERIFY_CHUNK_ROWS))
            : 1;
        this.chunks.set(
          table.name,
          splitKeyRange(parts > 1 ? await keyBounds(source, table) : undefined, parts),
        );
      }
    } finally {
      await source.end().catch(() => undefined);
    }
  }

  private sum(name: string, side: "source" | "target", excluded: string[]): Promise<Sum> {
    const done = Promise.all(
      this.chunks
        .get(name)!
        .map((range) => checksumJob(this.pool, this.task, name, excluded, range, side)),
    ).then((parts) => Sum.of(parts));
    // Awaited in run(); a failure is thrown there.
    done.catch(() => undefined);
    return done;
  }
}

class Sum {
  rows = 0;
  total = 0n;
  static of(parts: readonly Checksum[]): Sum {
    const sum = new Sum();
    for (const part of parts) sum.add(part);
    return sum;
  }
  add(c: Checksum): void {
    this.rows += c.rows;
    this.total += BigInt(c.sum);
  }
  result(): Checksum {
    return { rows: this.rows, sum: this.total.toString() };
  }
}
