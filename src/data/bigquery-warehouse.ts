/**
 * The BigQuery side of the migration on `@google-cloud/bigquery` (and `gcs-staging.ts` for
 * `--gcs-bucket`): one load job per table or partition, and the checksum query of `data verify`.
 * Credentials are Application Default Credentials of every kind, resolved by the clients'
 * google-auth-library: a service-account key, gcloud's authorized user, an `external_account` file
 * (Workload Identity Federation, as google-github-actions/auth writes it), an impersonated service
 * account, or the metadata server on GCP.
 *
 * Load jobs replace the table or partition (`WRITE_TRUNCATE`) in one job, and the job id is a hash
 * of the destination and of every file's name and bytes: a retried or re-run load of the same data
 * reuses the id, so it finds the job (or BigQuery answers 409, already exists) and waits for it
 * instead of loading twice. The clients retry what is safe to retry (5xx, `rateLimitExceeded`); we
 * retry what they cannot: a streamed upload, and a job that ended in a backend error (under a
 * derived id, since a job id is never reused).
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type * as BigQueryClient from "@google-cloud/bigquery";
import type { BigQuery, JobMetadata } from "@google-cloud/bigquery";
import { bigQueryChecksumSql, type Checksum, type KeyRange } from "./checksum";
import { GcsStaging, type StagedFile } from "./gcs-staging";
import {
  GoogleCloudError,
  credentialsError,
  googleApiError,
  httpStatusOf,
  isTransientGoogleError,
  isTransientReason,
  oneLine,
  retryDelayMs,
  retrySettings,
  type RetrySettings,
  type ServiceContext,
} from "./google-api-errors";
import type { MigrationTable } from "./table-plan";

/** What the migration needs of BigQuery (lane.ts, data-migration.ts, data-verification.ts, table-checksums.ts). */
export interface BigQueryTarget {
  /** Loads the files into the table (or one partition), replacing its rows; returns the job id. */
  loadTable(
    table: MigrationTable,
    dir: string,
    files: readonly string[],
    partition?: string,
  ): Promise<string>;
  checksum(table: MigrationTable): (range: KeyRange) => Promise<Checksum>;
}

/** Plain, serialisable settings (they cross into worker threads). */
export interface BigQueryWarehouseOptions {
  readonly project: string;
  readonly dataset: string;
  readonly location?: string;
  /** Stage the load files in this Cloud Storage bucket and load them from there. */
  readonly gcsBucket?: string;
  /** Root URL of the BigQuery API (default https://bigquery.googleapis.com). */
  readonly apiEndpoint?: string;
  /** Root URL of the Cloud Storage API (default https://storage.googleapis.com). */
  readonly storageApiEndpoint?: string;
  /**
   * A credentials file of any Application Default Credentials kind. Default: ADC itself
   * (GOOGLE_APPLICATION_CREDENTIALS, gcloud's application-default login, the metadata server).
   */
  readonly credentialsFile?: string;
  /** Between two looks at a running job (default 2 s). */
  readonly pollIntervalMs?: number;
  readonly retry?: RetrySettings;
  /** Bytes per resumable-upload request to Cloud Storage (default 8 MiB). */
  readonly uploadChunkBytes?: number;
}

const BIGQUERY: ServiceContext = {
  service: "BigQuery",
  roles: "roles/bigquery.jobUser on the project and roles/bigquery.dataEditor on the dataset",
  flags: "--bigquery-project, --bigquery-dataset and --bigquery-location",
};

/** A load file as the job id sees it: its name and the SHA-256 of its bytes. */
export type HashedFile = StagedFile;

const PARTITION_ID = /^(?:\d{4,10}|__NULL__|__UNPARTITIONED__)$/;

/**
 * Deterministic load job id: same destination, same file names, same bytes → same id. (A whole
 * table's id is the one the REST client before this one derived, so a run begun with it and
 * resumed with this one still finds its job.)
 */
export function loadJobId(table: string, files: readonly HashedFile[], partition?: string): string {
  const hash = createHash("sha256").update(table);
  for (const f of files) hash.update("\u0000").update(f.name).update("\u0000").update(f.sha256);
  if (partition !== undefined) hash.update("\u0000$").update(partition);
  const destination = partition === undefined ? table : `${table}_${partition}`;
  return `synter_migrate_${destination}_${hash.digest("hex").slice(0, 40)}`;
}

/** The id of the `attempt`-th submission (0-based) of a load whose earlier jobs failed transiently. */
export function attemptJobId(baseId: string, attempt: number): string {
  return attempt === 0 ? baseId : `${baseId}_retry${attempt}`;
}

async function sha256OfFile(path: string): Promise<Buffer> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest();
}

/** The files one after another: gzip members concatenated are one valid gzip stream. */
async function* concatenated(dir: string, files: readonly string[]): AsyncGenerator<Buffer> {
  for (const name of files) {
    for await (const chunk of createReadStream(join(dir, name))) yield chunk as Buffer;
  }
}

type JobStatus = NonNullable<JobMetadata["status"]>;

/** A job's failure in one line: the result's message, then the first distinct details. */
export function describeJobFailure(status: JobStatus): string {
  const main = status.errorResult?.message ?? "unknown error";
  const details = [
    ...new Set((status.errors ?? []).map((e) => e.message ?? "").filter((m) => m && m !== main)),
  ];
  const shown = details.slice(0, 3).join("; ");
  const more = details.length > 3 ? `; and ${details.length - 3} more` : "";
  return oneLine(`${main}${shown ? ` (${shown}${more})` : ""}`, 600);
}

export class BigQueryWarehouse implements BigQueryTarget {
  private readonly bigquery: BigQuery;
  private readonly staging?: GcsStaging;
  private readonly retry: Required<RetrySettings>;
  private authorized?: Promise<void>;

  constructor(private readonly options: BigQueryWarehouseOptions) {
    this.retry = retrySettings(options.retry);
    // Loaded on first use: the Google client libraries cost a run without BigQuery (load files,
    // auth tables only) a fifth of a second at its start.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- require() defers the loading
    const { BigQuery } = require("@google-cloud/bigquery") as typeof BigQueryClient;
    this.bigquery = new BigQuery({
      projectId: options.project,
      location: options.location,
      keyFilename: options.credentialsFile,
      apiEndpoint: options.apiEndpoint,
      retryOptions: {
        autoRetry: true,
        maxRetries: this.retry.maxRetries,
        maxRetryDelay: this.retry.maxRetryDelaySeconds,
        retryDelayMultiplier: this.retry.retryDelayMultiplier,
        totalTimeout: this.retry.totalTimeoutSeconds,
        // The client's own list, plus `backendError`/`internalError`, which BigQuery says to retry.
        retryableErrorFn: isTransientGoogleError,
      },
    });
    if (options.gcsBucket) {
      this.staging = new GcsStaging({
        bucket: options.gcsBucket,
        project: options.project,
        apiEndpoint: options.storageApiEndpoint,
        credentialsFile: options.credentialsFile,
        retry: options.retry,
        chunkBytes: options.uploadChunkBytes,
      });
    }
  }

  /** Gets a token once, so a credentials problem is reported as one, before any request. */
  private authorize(): Promise<void> {
    this.authorized ??= this.bigquery.authClient.getAccessToken().then(
      () => undefined,
      (error: unknown) => {
        this.authorized = undefined;
        throw credentialsError(BIGQUERY, error, this.options.credentialsFile);
      },
    );
    return this.authorized;
  }

  async loadTable(
    table: MigrationTable,
    dir: string,
    files: readonly string[],
    partition?: string,
  ): Promise<string> {
    if (partition !== undefined && !PARTITION_ID.test(partition)) {
      throw new GoogleCloudError(
        "internal",
        `not a BigQuery partition id: "${partition}" (expected YYYY[MM[DD[HH]]], __NULL__ or __UNPARTITIONED__)`,
      );
    }
    await this.authorize();
    const hashed = await Promise.all(
      files.map(async (name) => ({ name, sha256: await sha256OfFile(join(dir, name)) })),
    );
    const baseId = loadJobId(table.name, hashed, partition);
    const tableId = partition === undefined ? table.name : `${table.name}$${partition}`;
    let sourceUris: string[] | undefined;
    for (let attempt = 0; ; attempt++) {
      const jobId = attemptJobId(baseId, attempt);
      // A re-run (or a run resumed after a crash) finds its job before uploading anything.
      let status = await this.jobStatus(jobId);
      if (status === undefined) {
        if (this.staging) sourceUris ??= await this.staging.stage(dir, hashed);
        await this.submitLoad(jobId, tableId, dir, files, sourceUris);
      }
      if (status?.state !== "DONE") status = await this.waitForJob(jobId);
      if (!status.errorResult) return jobId;
      if (isTransientReason(status.errorResult.reason) && attempt < this.retry.maxRetries) {
        // A job id is never reused, so the next attempt is a new job under a derived id.
        await sleep(retryDelayMs(this.retry, attempt));
        continue;
      }
      throw new GoogleCloudError(
        status.errorResult.reason === "accessDenied" ? "auth" : "mismatch",
        `BigQuery load job ${jobId} into ${this.options.dataset}.${tableId} failed: ${describeJobFailure(status)}`,
      );
    }
  }

  private loadConfiguration(sourceUris?: readonly string[]) {
    return {
      sourceFormat: "NEWLINE_DELIMITED_JSON",
      writeDisposition: "WRITE_TRUNCATE",
      createDisposition: "CREATE_NEVER",
      maxBadRecords: 0,
      ignoreUnknownValues: false,
      ...(sourceUris ? { sourceUris: [...sourceUris] } : {}),
    };
  }

  /** Creates the job; a 409 (it exists: an earlier attempt landed) is as good. */
  private async submitLoad(
    jobId: string,
    tableId: string,
    dir: string,
    files: readonly string[],
    sourceUris?: readonly string[],
  ): Promise<void> {
    const action = `load job ${jobId}`;
    if (sourceUris) {
      try {
        // The client retries this request itself: the same body, so the same job id.
        await this.bigquery.createJob({
          jobId,
          location: this.options.location,
          configuration: {
            load: {
              destinationTable: {
                projectId: this.options.project,
                datasetId: this.options.dataset,
                tableId,
              },
              ...this.loadConfiguration(sourceUris),
            },
          },
        });
      } catch (error) {
        if (httpStatusOf(error) !== 409) throw googleApiError(BIGQUERY, action, error);
      }
      return;
    }
    // A streamed upload cannot be replayed by the client: we retry it, with the same job id.
    for (let retry = 0; ; retry++) {
      try {
        await this.uploadLoad(jobId, tableId, dir, files);
        return;
      } catch (error) {
        if (httpStatusOf(error) === 409) return;
        if (!isTransientGoogleError(error) || retry >= this.retry.maxRetries) {
          throw googleApiError(BIGQUERY, action, error);
        }
        await sleep(retryDelayMs(this.retry, retry));
      }
    }
  }

  /** One multipart upload of the job and every file's bytes, streamed from disk. */
  private async uploadLoad(
    jobId: string,
    tableId: string,
    dir: string,
    files: readonly string[],
  ): Promise<void> {
    const table = this.bigquery
      .dataset(this.options.dataset, { location: this.options.location })
      .table(tableId, { location: this.options.location });
    // The client's upload without its polling (`createWriteStream` would also poll the job, and
    // fail on the 409 we accept): we wait for the job ourselves.
    const upload = table.createWriteStream_({ jobId, ...this.loadConfiguration() });
    const created = new Promise<void>((resolve, reject) => {
      upload.once("job", () => resolve());
      upload.once("error", reject);
    });
    await Promise.all([pipeline(Readable.from(concatenated(dir, files)), upload), created]);
  }

  /** The job's status, or undefined when there is no such job. */
  private async jobStatus(jobId: string): Promise<JobStatus | undefined> {
    const job = this.bigquery.job(jobId, { location: this.options.location });
    try {
      const [metadata] = await job.getMetadata();
      return (metadata as JobMetadata).status ?? {};
    } catch (error) {
      if (httpStatusOf(error) === 404) return undefined;
      throw googleApiError(BIGQUERY, `load job ${jobId}`, error);
    }
  }

  private async waitForJob(jobId: string): Promise<JobStatus> {
    for (;;) {
      const status = await this.jobStatus(jobId);
      if (status === undefined) {
        throw new GoogleCloudError(
          "unreachable",
          `BigQuery lost load job ${jobId} after creating it; run the same command again`,
        );
      }
      if (status.state === "DONE") return status;
      await sleep(this.options.pollIntervalMs ?? 2000);
    }
  }

  checksum(table: MigrationTable): (range: KeyRange) => Promise<Checksum> {
    const ref = `\`${this.options.project}.${this.options.dataset}.${table.name}\``;
    return async (range) => {
      await this.authorize();
      const query = bigQueryChecksumSql(table, ref, range);
      let rows: { f: { v: string }[] }[];
      try {
        // Raw rows: the sum is a decimal beyond 2^53, so nothing is parsed into numbers.
        [rows] = await this.bigquery.query({
          query,
          useLegacySql: false,
          location: this.options.location,
          skipParsing: true,
        });
      } catch (error) {
        throw googleApiError(
          BIGQUERY,
          `checksum query of ${this.options.dataset}.${table.name}`,
          error,
        );
      }
      const [count, sum] = rows[0].f.map((cell) => cell.v);
      return { rows: Number(count), sum };
    };
  }
}

const shared = new Map<string, BigQueryWarehouse>();

/**
 * The warehouse for these options, one per thread: its clients keep their tokens, so a run makes
 * one token exchange per thread, not one per table or key range.
 */
export function bigQueryWarehouse(options: BigQueryWarehouseOptions): BigQueryWarehouse {
  const key = JSON.stringify([options, process.env.GOOGLE_APPLICATION_CREDENTIALS ?? null]);
  let warehouse = shared.get(key);
  if (!warehouse) {
    warehouse = new BigQueryWarehouse(options);
    shared.set(key, warehouse);
  }
  return warehouse;
}
