/**
 * The BigQuery side of the migration, over the REST API with plain `fetch` (no client library):
 * credentials (a service-account or authorized-user JSON file named by GOOGLE_APPLICATION_CREDENTIALS,
 * else the metadata server), optional upload of the load files to Cloud Storage, one load job per
 * table, and the checksum query of `data verify`.
 *
 * Load jobs replace the table (`WRITE_TRUNCATE`) in one job, and the job id is a hash of the table
 * and of every file's name and content: a retried or re-run load with the same data reuses the id,
 * BigQuery answers 409 (already exists) and we wait for that job instead of loading twice.
 */
import { createHash, createSign } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bigQueryChecksumSql, type Checksum, type KeyRange } from "./checksum";
import type { MigrationTable } from "./table-plan";

export interface BigQueryTarget {
  /** Loads the files into the table, replacing its rows; returns the load job id. */
  loadTable(table: MigrationTable, dir: string, files: readonly string[]): Promise<string>;
  checksum(table: MigrationTable): (range: KeyRange) => Promise<Checksum>;
}

export interface BigQueryEndpoints {
  readonly api: string;
  readonly upload: string;
  readonly storage: string;
  readonly metadata: string;
}

export const GOOGLE_ENDPOINTS: BigQueryEndpoints = {
  api: "https://bigquery.googleapis.com",
  upload: "https://bigquery.googleapis.com/upload",
  storage: "https://storage.googleapis.com",
  metadata: "http://metadata.google.internal",
};

export interface BigQueryClientOptions {
  readonly project: string;
  readonly dataset: string;
  readonly location?: string;
  readonly gcsBucket?: string;
  readonly endpoints?: BigQueryEndpoints;
  /** Path of a credentials JSON file; defaults to GOOGLE_APPLICATION_CREDENTIALS. */
  readonly credentialsFile?: string;
  readonly pollIntervalMs?: number;
}

export class BigQueryApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const SCOPE = "https://www.googleapis.com/auth/cloud-platform";

interface ServiceAccountKey {
  type: "service_account";
  client_email: string;
  private_key: string;
  token_uri?: string;
}
interface AuthorizedUser {
  type: "authorized_user";
  client_id: string;
  client_secret: string;
  refresh_token: string;
}

/** A signed JWT for the OAuth 2.0 JWT-bearer grant (RFC 7523), RS256 with the key's private key. */
export function signServiceAccountJwt(
  key: ServiceAccountKey,
  nowSeconds: number,
  audience: string,
): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const header = encode({ alg: "RS256", typ: "JWT" });
  const claims = encode({
    iss: key.client_email,
    scope: SCOPE,
    aud: audience,
    iat: nowSeconds,
    exp: nowSeconds + 3600,
  });
  const signature = createSign("RSA-SHA256")
    .update(`${header}.${claims}`)
    .sign(key.private_key)
    .toString("base64url");
  return `${header}.${claims}.${signature}`;
}

export class AccessTokenSource {
  private cached?: { token: string; expiresAt: number };
  constructor(
    private readonly endpoints: BigQueryEndpoints,
    private readonly credentialsFile = process.env.GOOGLE_APPLICATION_CREDENTIALS,
  ) {}

  async token(): Promise<string> {
    if (this.cached && this.cached.expiresAt - 60_000 > Date.now()) return this.cached.token;
    const response = await this.request();
    if (!response.ok) {
      throw new BigQueryApiError(
        `token request failed: ${response.status} ${await response.text()}`,
        response.status,
      );
    }
    const body = (await response.json()) as { access_token: string; expires_in: number };
    this.cached = { token: body.access_token, expiresAt: Date.now() + body.expires_in * 1000 };
    return body.access_token;
  }

  private request(): Promise<Response> {
    if (!this.credentialsFile) {
      return fetch(
        `${this.endpoints.metadata}/computeMetadata/v1/instance/service-accounts/default/token`,
        { headers: { "Metadata-Flavor": "Google" } },
      );
    }
    const credentials = JSON.parse(readFileSync(this.credentialsFile, "utf8")) as
      ServiceAccountKey | AuthorizedUser;
    if (credentials.type === "service_account") {
      const tokenUri = credentials.token_uri ?? "https://oauth2.googleapis.com/token";
      const assertion = signServiceAccountJwt(credentials, Math.floor(Date.now() / 1000), tokenUri);
      return fetch(tokenUri, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
          assertion,
        }).toString(),
      });
    }
    if (credentials.type === "authorized_user") {
      return fetch("https://oauth2.googleapis.com/token", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "refresh_token",
          client_id: credentials.client_id,
          client_secret: credentials.client_secret,
          refresh_token: credentials.refresh_token,
        }).toString(),
      });
    }
    throw new BigQueryApiError(
      `unsupported credentials type in ${this.credentialsFile} (expected service_account or authorized_user)`,
      0,
    );
  }
}

/** Deterministic load job id: same table, same file names, same bytes → same id. */
export function loadJobId(
  table: string,
  files: readonly { name: string; content: Buffer }[],
): string {
  const hash = createHash("sha256").update(table);
  for (const f of files) {
    hash
      .update("\u0000")
      .update(f.name)
      .update("\u0000")
      .update(createHash("sha256").update(f.content).digest());
  }
  return `synter_migrate_${table}_${hash.digest("hex").slice(0, 40)}`;
}

interface JobResource {
  status?: {
    state?: string;
    errorResult?: { message?: string; reason?: string };
    errors?: { message?: string }[];
  };
}

export class BigQueryRestTarget implements BigQueryTarget {
  private readonly endpoints: BigQueryEndpoints;
  private readonly tokens: AccessTokenSource;

  constructor(private readonly options: BigQueryClientOptions) {
    this.endpoints = options.endpoints ?? GOOGLE_ENDPOINTS;
    this.tokens = new AccessTokenSource(this.endpoints, options.credentialsFile);
  }

  private async call(
    url: string,
    init: RequestInit = {},
    acceptConflict = false,
  ): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${await this.tokens.token()}`);
    const response = await fetch(url, { ...init, headers });
    if (!response.ok && !(acceptConflict && response.status === 409)) {
      throw new BigQueryApiError(
        `${init.method ?? "GET"} ${url}: ${response.status} ${await response.text()}`,
        response.status,
      );
    }
    return response;
  }

  private jobsUrl(root: string): string {
    return `${root}/bigquery/v2/projects/${encodeURIComponent(this.options.project)}/jobs`;
  }

  async loadTable(table: MigrationTable, dir: string, files: readonly string[]): Promise<string> {
    const contents = files.map((name) => ({ name, content: readFileSync(join(dir, name)) }));
    const jobId = loadJobId(table.name, contents);
    const load: Record<string, unknown> = {
      destinationTable: {
        projectId: this.options.project,
        datasetId: this.options.dataset,
        tableId: table.name,
      },
      sourceFormat: "NEWLINE_DELIMITED_JSON",
      writeDisposition: "WRITE_TRUNCATE",
      createDisposition: "CREATE_NEVER",
      maxBadRecords: 0,
      ignoreUnknownValues: false,
    };
    const jobReference = {
      projectId: this.options.project,
      jobId,
      location: this.options.location,
    };
    if (this.options.gcsBucket) {
      load.sourceUris = await Promise.all(contents.map((f) => this.uploadObject(f)));
      await this.call(
        this.jobsUrl(this.endpoints.api),
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jobReference, configuration: { load } }),
        },
        true,
      );
    } else {
      // One multipart upload: gzip members concatenated are one valid gzip stream.
      const boundary = `synter-${jobId}`;
      const body = Buffer.concat([
        Buffer.from(
          `--${boundary}\r\ncontent-type: application/json; charset=UTF-8\r\n\r\n${JSON.stringify({ jobReference, configuration: { load } })}\r\n` +
            `--${boundary}\r\ncontent-type: application/octet-stream\r\n\r\n`,
        ),
        ...contents.map((f) => f.content),
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      await this.call(
        `${this.jobsUrl(this.endpoints.upload)}?uploadType=multipart`,
        {
          method: "POST",
          headers: { "content-type": `multipart/related; boundary=${boundary}` },
          body,
        },
        true,
      );
    }
    // 409: a job with this id exists (a retry of the same load): wait for it, never load again.
    await this.waitForJob(jobId);
    return jobId;
  }

  private async uploadObject(file: { name: string; content: Buffer }): Promise<string> {
    const digest = createHash("sha256").update(file.content).digest("hex").slice(0, 16);
    const objectName = `synter-data-migration/${file.name.replace(/\.ndjson\.gz$/, "")}-${digest}.ndjson.gz`;
    await this.call(
      `${this.endpoints.storage}/upload/storage/v1/b/${encodeURIComponent(this.options.gcsBucket!)}/o?uploadType=media&name=${encodeURIComponent(objectName)}`,
      { method: "POST", headers: { "content-type": "application/gzip" }, body: file.content },
    );
    return `gs://${this.options.gcsBucket}/${objectName}`;
  }

  private async waitForJob(jobId: string): Promise<void> {
    const location = this.options.location
      ? `?location=${encodeURIComponent(this.options.location)}`
      : "";
    for (;;) {
      const response = await this.call(
        `${this.jobsUrl(this.endpoints.api)}/${encodeURIComponent(jobId)}${location}`,
      );
      const job = (await response.json()) as JobResource;
      if (job.status?.state === "DONE") {
        if (job.status.errorResult) {
          const details = (job.status.errors ?? []).map((e) => e.message).join("; ");
          throw new BigQueryApiError(
            `load job ${jobId} failed: ${job.status.errorResult.message}${details ? ` (${details})` : ""}`,
            0,
          );
        }
        return;
      }
      await new Promise((r) => setTimeout(r, this.options.pollIntervalMs ?? 2000));
    }
  }

  checksum(table: MigrationTable): (range: KeyRange) => Promise<Checksum> {
    return async (range) => {
      const ref = `\`${this.options.project}.${this.options.dataset}.${table.name}\``;
      const response = await this.call(
        `${this.endpoints.api}/bigquery/v2/projects/${encodeURIComponent(this.options.project)}/queries`,
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            query: bigQueryChecksumSql(table, ref, range),
            useLegacySql: false,
            location: this.options.location,
            timeoutMs: 60000,
          }),
        },
      );
      let body = (await response.json()) as {
        jobComplete?: boolean;
        jobReference?: { jobId: string };
        rows?: { f: { v: string }[] }[];
      };
      while (!body.jobComplete) {
        const location = this.options.location
          ? `&location=${encodeURIComponent(this.options.location)}`
          : "";
        const next = await this.call(
          `${this.endpoints.api}/bigquery/v2/projects/${encodeURIComponent(this.options.project)}/queries/${body.jobReference!.jobId}?timeoutMs=60000${location}`,
        );
        body = (await next.json()) as typeof body;
      }
      const [count, sum] = body.rows![0].f.map((c) => c.v);
      return { rows: Number(count), sum };
    };
  }
}
