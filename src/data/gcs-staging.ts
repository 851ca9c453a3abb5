/**
 * Load files staged in Cloud Storage (`--gcs-bucket`), for BigQuery to load them by URI — the way
 * for tables too large for one upload request. Through `@google-cloud/storage`: Application Default
 * Credentials of every kind, resumable uploads in chunks (a dropped connection resumes the same
 * upload from the last chunk Cloud Storage holds), retries with backoff.
 *
 * Objects are content-addressed (the file's name and a SHA-256 prefix of its bytes), so an object
 * already there holds exactly these bytes: a re-run or a retried load uploads nothing twice, and an
 * upload whose response was lost is found by its precondition (`ifGenerationMatch: 0`).
 */
import { createReadStream } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import type * as StorageClient from "@google-cloud/storage";
import type { File, Storage } from "@google-cloud/storage";
import {
  credentialsError,
  googleApiError,
  httpStatusOf,
  retrySettings,
  type RetrySettings,
  type ServiceContext,
} from "./google-api-errors";

export interface GcsStagingOptions {
  readonly bucket: string;
  /** The project billed for the requests; the bucket's own by default. */
  readonly project?: string;
  /** Root URL of the Cloud Storage API (default https://storage.googleapis.com). */
  readonly apiEndpoint?: string;
  /** A credentials file of any Application Default Credentials kind; default: ADC. */
  readonly credentialsFile?: string;
  readonly retry?: RetrySettings;
  /** Bytes per resumable-upload request, a multiple of 256 KiB (default 8 MiB). */
  readonly chunkBytes?: number;
  /** Files uploaded at once (default 4): each holds one chunk in memory. */
  readonly concurrency?: number;
}

/** A load file to stage: its path under the files directory and the SHA-256 of its bytes. */
export interface StagedFile {
  readonly name: string;
  readonly sha256: Buffer;
}

const CHUNK_QUANTUM = 256 * 1024;
/** Google's advice is at least 8 MiB; each upload holds one chunk in memory until it is acknowledged. */
const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;

const STORAGE: ServiceContext = {
  service: "Cloud Storage",
  roles: "roles/storage.objectAdmin on the bucket",
  flags: "--gcs-bucket",
};

/** `events/events-000001-start-2.ndjson.gz` → `synter-data-migration/events/events-000001-start-2-<sha256 prefix>.ndjson.gz`. */
export function stagedObjectName(file: StagedFile): string {
  const digest = file.sha256.toString("hex").slice(0, 16);
  return `synter-data-migration/${file.name.replace(/\.ndjson\.gz$/, "")}-${digest}.ndjson.gz`;
}

export class GcsStaging {
  private readonly storage: Storage;
  private readonly chunkBytes: number;
  private authorized?: Promise<void>;

  constructor(private readonly options: GcsStagingOptions) {
    const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    if (chunkBytes <= 0 || chunkBytes % CHUNK_QUANTUM !== 0) {
      // Cloud Storage accepts every chunk but the last only in multiples of 256 KiB.
      throw new RangeError(`chunkBytes must be a positive multiple of 256 KiB, got ${chunkBytes}`);
    }
    this.chunkBytes = chunkBytes;
    const retry = retrySettings(options.retry);
    // Loaded on first use, as the BigQuery client is (`bigquery-warehouse.ts`).
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- require() defers the loading
    const { Storage } = require("@google-cloud/storage") as typeof StorageClient;
    this.storage = new Storage({
      projectId: options.project,
      keyFilename: options.credentialsFile,
      apiEndpoint: options.apiEndpoint,
      // A custom endpoint is sent no credentials unless asked: ours is Google's or a stand-in of it.
      useAuthWithCustomEndpoint: true,
      retryOptions: {
        autoRetry: true,
        maxRetries: retry.maxRetries,
        // The library's async-retry waits at least 1 s (its minTimeout) and refuses a lower cap.
        maxRetryDelay: Math.max(1, retry.maxRetryDelaySeconds),
        retryDelayMultiplier: retry.retryDelayMultiplier,
        totalTimeout: retry.totalTimeoutSeconds,
      },
    });
  }

  /** Uploads every file not yet in the bucket; returns their `gs://` URIs in the files' order. */
  async stage(dir: string, files: readonly StagedFile[]): Promise<string[]> {
    await this.authorize();
    const uris: string[] = new Array(files.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < files.length; i = next++) {
        uris[i] = await this.stageOne(dir, files[i]);
      }
    };
    const lanes = Math.max(1, Math.min(this.options.concurrency ?? 4, files.length));
    await Promise.all(Array.from({ length: lanes }, worker));
    return uris;
  }

  /** Gets a token once, so a credentials problem is reported as one, before any upload. */
  private authorize(): Promise<void> {
    this.authorized ??= this.storage.authClient.getAccessToken().then(
      () => undefined,
      (error: unknown) => {
        this.authorized = undefined;
        throw credentialsError(STORAGE, error, this.options.credentialsFile);
      },
    );
    return this.authorized;
  }

  private async stageOne(dir: string, file: StagedFile): Promise<string> {
    const objectName = stagedObjectName(file);
    const uri = `gs://${this.options.bucket}/${objectName}`;
    const object = this.storage.bucket(this.options.bucket).file(objectName);
    const action = `upload of ${file.name} to ${uri}`;
    try {
      if (await exists(object)) return uri;
      // Only if absent: this makes the upload safe for the library to retry, and an upload that
      // landed although its response was lost answers 412 on the retry.
      const settings = {
        preconditionOpts: { ifGenerationMatch: 0 },
        metadata: { contentType: "application/gzip" },
      };
      // The session first, then its chunks: the library sends the chunks no token when the API
      // endpoint is not Google's (a stand-in), which Cloud Storage allows — the session URI is the
      // credential of its upload — but it must open the session with one.
      const [session] = await object.createResumableUpload(settings);
      await pipeline(
        createReadStream(join(dir, file.name)),
        object.createWriteStream({
          ...settings,
          uri: session,
          resumable: true,
          chunkSize: this.chunkBytes,
        }),
      );
      return uri;
    } catch (error) {
      if (httpStatusOf(error) === 412) return uri;
      throw googleApiError(STORAGE, action, error);
    }
  }
}

async function exists(object: File): Promise<boolean> {
  const [found] = await object.exists();
  return found;
}
