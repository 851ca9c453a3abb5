/**
 * A local stand-in for the Google APIs the data migration calls, answering the requests that
 * `@google-cloud/bigquery`, `@google-cloud/storage` and google-auth-library really send (the
 * clients point at it through their `apiEndpoint` option; a credentials file points the token
 * exchange at it): STS token exchange, IAM Credentials impersonation, BigQuery jobs (insert,
 * multipart upload, get) and queries, Cloud Storage objects (get, resumable uploads in chunks).
 *
 * It keeps state as the services do — jobs by id (409 on a second insert), a table's rows replaced
 * by each successful load (`WRITE_TRUNCATE`), objects and upload sessions — and fails as they do
 * when told to (`fail`): an HTTP error instead of handling a request or after handling it, or a
 * connection dropped partway through a request's body. Every request is recorded.
 */
import { createHash } from "node:crypto";
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { CRC32C } from "@google-cloud/storage";

export interface RecordedRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** The body as received (only its first part when the connection was dropped). */
  readonly body: Buffer;
  /** `Date.now()` when the request arrived. */
  readonly at: number;
  /** The stand-in dropped the connection partway through the body. */
  readonly dropped: boolean;
}

export type Fault =
  /** Answer this instead of handling the request. */
  | { readonly respond: number; readonly body?: unknown }
  /** Handle the request (a job is created, a chunk stored…), then answer this instead. */
  | { readonly respondAfterHandling: number; readonly body?: unknown }
  /** Read this many bytes of the body (default 0), then destroy the socket. */
  | { readonly dropAfterBytes: number };

export interface RequestPattern {
  readonly method?: string;
  /** Matched against the path (no query). */
  readonly path: RegExp;
  /** Matched against the request headers. */
  readonly header?: { readonly name: string; readonly value: RegExp };
}

/** How a job ends: after how many looks at it (`jobs.get`), and with which error. */
export interface JobOutcome {
  /** `jobs.get` calls that still see it RUNNING (default 0: the first look sees it DONE). */
  readonly runningPolls?: number;
  readonly errorResult?: { readonly reason: string; readonly message: string };
  readonly errors?: readonly { readonly reason?: string; readonly message: string }[];
}

export interface StandInJob {
  readonly id: string;
  readonly projectId: string;
  readonly location?: string;
  readonly configuration: { load?: LoadConfiguration; query?: unknown };
  /** The uploaded bytes of a multipart load. */
  readonly data?: Buffer;
  readonly outcome: JobOutcome;
  polls: number;
  done: boolean;
}

interface LoadConfiguration {
  readonly destinationTable: { projectId: string; datasetId: string; tableId: string };
  readonly writeDisposition?: string;
  readonly sourceUris?: string[];
  readonly [key: string]: unknown;
}

interface UploadSession {
  readonly bucket: string;
  readonly name: string;
  readonly metadata: Record<string, unknown>;
  received: Buffer;
  finished: boolean;
}

export interface StoredObject {
  readonly bytes: Buffer;
  readonly generation: number;
  readonly contentType?: string;
}

export const STS_TOKEN = "sts-access-token";
export const IMPERSONATED_TOKEN = "impersonated-access-token";

function googleError(code: number, message: string, reason: string, status?: string): unknown {
  return { error: { code, message, errors: [{ message, domain: "global", reason }], status } };
}

function md5Base64(bytes: Buffer): string {
  return createHash("md5").update(bytes).digest("base64");
}

function crc32cBase64(bytes: Buffer): string {
  const crc = new CRC32C();
  crc.update(bytes);
  return crc.toString();
}

/** The parts of a `multipart/related` body. */
function multipartParts(body: Buffer, contentType: string): Buffer[] {
  const boundary = /boundary=("?)([^";]+)\1/.exec(contentType)?.[2];
  if (!boundary) throw new Error(`no boundary in ${contentType}`);
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Buffer[] = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === "--") break;
    const next = body.indexOf(delimiter, start);
    const part = body.subarray(start, next < 0 ? body.length : next);
    const headerEnd = part.indexOf("\r\n\r\n");
    // The part's content, without its headers and the CRLF before the next delimiter.
    parts.push(part.subarray(headerEnd + 4, part.length - 2));
    at = next;
  }
  return parts;
}

export class GoogleCloudStandIn {
  readonly requests: RecordedRequest[] = [];
  readonly jobs = new Map<string, StandInJob>();
  /** The NDJSON lines of each table (`dataset.table`), as the last successful load left them. */
  readonly tables = new Map<string, string[]>();
  /** Objects by `bucket/name`. */
  readonly objects = new Map<string, StoredObject>();
  /** The bearer token API calls must carry; unset: any. */
  requiredToken?: string;
  /** How each new job ends. */
  jobOutcome: (job: { id: string; configuration: StandInJob["configuration"] }) => JobOutcome =
    () => ({});
  /** Evaluates a query's SQL: its rows, each cell as BigQuery's JSON sends it (text or null). */
  evaluateQuery: (sql: string) => Promise<(string | null)[][]> = () =>
    Promise.reject(new Error("no evaluateQuery set"));
  /** The result schema of `jobs.query` answers. */
  querySchema: { name: string; type: string }[] = [
    { name: "row_count", type: "INTEGER" },
    { name: "hash_sum", type: "STRING" },
  ];

  private readonly faults: { pattern: RequestPattern; fault: Fault; remaining: number }[] = [];
  private readonly sessions = new Map<string, UploadSession>();
  private readonly queryResults = new Map<string, unknown>();
  private nextId = 1;

  private constructor(
    private readonly server: Server,
    readonly base: string,
  ) {}

  static async start(): Promise<GoogleCloudStandIn> {
    const handler: { standIn?: GoogleCloudStandIn } = {};
    const server = createServer((req, res) => handler.standIn!.onRequest(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    handler.standIn = new GoogleCloudStandIn(server, `http://127.0.0.1:${port}`);
    return handler.standIn;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** The next `times` requests matching `pattern` meet `fault`. */
  fail(pattern: RequestPattern, fault: Fault, times = 1): void {
    this.faults.push({ pattern, fault, remaining: times });
  }

  /** Recorded requests whose method and path match. */
  requestsTo(method: string, path: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && path.test(r.path));
  }

  /**
   * Writes an `external_account` credentials file (Workload Identity Federation) whose token
   * exchange goes to this stand-in's STS, from a subject token in a file, optionally followed by
   * the impersonation of `serviceAccount` — the file google-github-actions/auth writes, with the
   * OIDC token read from a file instead of the Actions token URL.
   */
  writeExternalAccountCredentials(dir: string, serviceAccount?: string): string {
    const subjectTokenFile = join(dir, "subject-token.jwt");
    writeFileSync(subjectTokenFile, "github-oidc-subject-token");
    const path = join(dir, "external-account.json");
    writeFileSync(
      path,
      JSON.stringify({
        type: "external_account",
        audience:
          "//iam.googleapis.com/projects/123456/locations/global/workloadIdentityPools/github/providers/synter",
        subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
        token_url: `${this.base}/v1/token`,
        credential_source: { file: subjectTokenFile },
        ...(serviceAccount
          ? {
              service_account_impersonation_url: `${this.base}/v1/projects/-/serviceAccounts/${serviceAccount}:generateAccessToken`,
            }
          : {}),
      }),
    );
    return path;
  }

  private takeFault(method: string, path: string, headers: IncomingHttpHeaders): Fault | undefined {
    const rule = this.faults.find(
      (f) =>
        f.remaining > 0 &&
        (f.pattern.method === undefined || f.pattern.method === method) &&
        f.pattern.path.test(path) &&
        (f.pattern.header === undefined ||
          f.pattern.header.value.test(String(headers[f.pattern.header.name] ?? ""))),
    );
    if (!rule) return undefined;
    rule.remaining--;
    return rule.fault;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse) {
    const at = Date.now();
    const url = new URL(req.url!, this.base);
    const fault = this.takeFault(req.method!, url.pathname, req.headers);
    const chunks: Buffer[] = [];
    let received = 0;
    const record = (dropped: boolean): RecordedRequest => {
      const recorded = {
        method: req.method!,
        url: req.url!,
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks),
        at,
        dropped,
      };
      this.requests.push(recorded);
      return recorded;
    };
    if (fault && "dropAfterBytes" in fault) {
      let dropped = false;
      const drop = () => {
        if (dropped) return;
        dropped = true;
        record(true);
        req.socket.destroy();
      };
      req.on("data", (c: Buffer) => {
        if (dropped) return;
        const room = fault.dropAfterBytes - received;
        chunks.push(c.subarray(0, Math.max(0, room)));
        received += c.length;
        if (received >= fault.dropAfterBytes) drop();
      });
      req.on("end", drop);
      if (fault.dropAfterBytes === 0) drop();
      return;
    }
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const request = record(false);
      const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { "content-type": "application/json; charset=UTF-8", ...headers });
        res.end(body === undefined ? "" : JSON.stringify(body));
      };
      if (fault && "respond" in fault) {
        send(fault.respond, fault.body ?? googleError(fault.respond, "injected", "backendError"));
        return;
      }
      this.handle(request).then(
        (answer) => {
          if (fault && "respondAfterHandling" in fault) {
            send(
              fault.respondAfterHandling,
              fault.body ?? googleError(fault.respondAfterHandling, "injected", "backendError"),
            );
          } else send(answer.status, answer.body, answer.headers);
        },
        (error: Error) =>
          send(500, googleError(500, `stand-in: ${error.message}`, "internalError")),
      );
    });
  }

  private async handle(
    r: RecordedRequest,
  ): Promise<{ status: number; body?: unknown; headers?: Record<string, string> }> {
    if (r.method === "POST" && r.path === "/v1/token") return this.exchangeToken(r);
    const impersonate = /^\/v1\/projects\/-\/serviceAccounts\/([^/]+):generateAccessToken$/.exec(
      r.path,
    );
    if (r.method === "POST" && impersonate) {
      if (r.headers.authorization !== `Bearer ${STS_TOKEN}`) {
        return { status: 401, body: googleError(401, "bad STS token", "unauthorized") };
      }
      return {
        status: 200,
        body: {
          accessToken: IMPERSONATED_TOKEN,
          expireTime: new Date(Date.now() + 3600_000).toISOString(),
        },
      };
    }
    // A resumable upload's session URI is the credential of its chunks (Cloud Storage asks no token).
    const uploadChunk = r.method === "PUT" && r.query.has("upload_id");
    if (
      this.requiredToken !== undefined &&
      !uploadChunk &&
      r.headers.authorization !== `Bearer ${this.requiredToken}`
    ) {
      return {
        status: 401,
        body: googleError(
          401,
          "Request had invalid authentication credentials.",
          "unauthorized",
          "UNAUTHENTICATED",
        ),
      };
    }
    let m: RegExpExecArray | null;
    if (r.method === "POST" && (m = /^\/bigquery\/v2\/projects\/([^/]+)\/jobs$/.exec(r.path))) {
      const job = JSON.parse(r.body.toString("utf8")) as JobInsert;
      return this.insertJob(m[1], job);
    }
    if (
      r.method === "POST" &&
      (m = /^\/upload\/bigquery\/v2\/projects\/([^/]+)\/jobs$/.exec(r.path)) &&
      r.query.get("uploadType") === "multipart"
    ) {
      const [metadata, data] = multipartParts(r.body, String(r.headers["content-type"]));
      return this.insertJob(m[1], JSON.parse(metadata.toString("utf8")) as JobInsert, data);
    }
    if (
      r.method === "GET" &&
      (m = /^\/bigquery\/v2\/projects\/([^/]+)\/jobs\/([^/]+)$/.exec(r.path))
    ) {
      return this.getJob(m[1], decodeURIComponent(m[2]));
    }
    if (r.method === "POST" && (m = /^\/bigquery\/v2\/projects\/([^/]+)\/queries$/.exec(r.path))) {
      return this.runQuery(
        m[1],
        JSON.parse(r.body.toString("utf8")) as { query: string; location?: string },
      );
    }
    if (
      r.method === "GET" &&
      (m = /^\/bigquery\/v2\/projects\/[^/]+\/queries\/([^/]+)$/.exec(r.path))
    ) {
      const result = this.queryResults.get(m[1]);
      return result
        ? { status: 200, body: result }
        : { status: 404, body: googleError(404, `Not found: Job ${m[1]}`, "notFound") };
    }
    if (r.method === "GET" && (m = /^\/storage\/v1\/b\/([^/]+)\/o\/([^/]+)$/.exec(r.path))) {
      const name = decodeURIComponent(m[2]);
      const object = this.objects.get(`${m[1]}/${name}`);
      if (!object) {
        return {
          status: 404,
          body: googleError(404, `No such object: ${m[1]}/${name}`, "notFound"),
        };
      }
      return { status: 200, body: this.objectResource(m[1], name, object) };
    }
    if ((m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(r.path))) {
      if (r.method === "POST" && r.query.get("uploadType") === "resumable") {
        return this.startUpload(m[1], r);
      }
      if (r.method === "PUT" && r.query.has("upload_id")) return this.uploadChunk(r);
    }
    return {
      status: 404,
      body: googleError(404, `stand-in: no route for ${r.method} ${r.path}`, "notFound"),
    };
  }

  private exchangeToken(r: RecordedRequest) {
    const form = new URLSearchParams(r.body.toString("utf8"));
    if (
      form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:token-exchange" ||
      form.get("subject_token") !== "github-oidc-subject-token"
    ) {
      return {
        status: 400,
        body: { error: "invalid_grant", error_description: "The subject token is invalid." },
      };
    }
    return {
      status: 200,
      body: {
        access_token: STS_TOKEN,
        issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
        token_type: "Bearer",
        expires_in: 3600,
      },
    };
  }

  private jobResource(job: StandInJob): unknown {
    const state = job.done ? "DONE" : "RUNNING";
    const failed = job.done && job.outcome.errorResult;
    return {
      kind: "bigquery#job",
      id: `${job.projectId}:${job.location ?? "US"}.${job.id}`,
      jobReference: { projectId: job.projectId, jobId: job.id, location: job.location ?? "US" },
      configuration: job.configuration,
      status: failed
        ? {
            state,
            errorResult: job.outcome.errorResult,
            errors: job.outcome.errors ?? [job.outcome.errorResult],
          }
        : { state },
    };
  }

  private insertJob(projectId: string, insert: JobInsert, data?: Buffer) {
    const id = insert.jobReference.jobId;
    if (this.jobs.has(id)) {
      const message = `Already Exists: Job ${projectId}:${insert.jobReference.location ?? "US"}.${id}`;
      return { status: 409, body: googleError(409, message, "duplicate", "ALREADY_EXISTS") };
    }
    const job: StandInJob = {
      id,
      projectId,
      location: insert.jobReference.location,
      configuration: insert.configuration,
      data,
      outcome: this.jobOutcome({ id, configuration: insert.configuration }),
      polls: 0,
      done: false,
    };
    this.jobs.set(id, job);
    return { status: 200, body: this.jobResource(job) };
  }

  private getJob(projectId: string, id: string) {
    const job = this.jobs.get(id);
    if (!job || job.projectId !== projectId) {
      return {
        status: 404,
        body: googleError(404, `Not found: Job ${projectId}:${id}`, "notFound"),
      };
    }
    job.polls++;
    if (!job.done && job.polls > (job.outcome.runningPolls ?? 0)) {
      job.done = true;
      if (!job.outcome.errorResult && job.configuration.load)
        this.applyLoad(job, job.configuration.load);
    }
    return { status: 200, body: this.jobResource(job) };
  }

  /** WRITE_TRUNCATE: the destination's rows become the loaded ones. */
  private applyLoad(job: StandInJob, load: LoadConfiguration) {
    const sources = load.sourceUris
      ? load.sourceUris.map((uri) => {
          const object = this.objects.get(uri.replace(/^gs:\/\//, ""));
          if (!object) throw new Error(`load from a missing object ${uri}`);
          return object.bytes;
        })
      : [job.data!];
    const lines = sources.flatMap((bytes) =>
      gunzipSync(bytes).toString("utf8").split("\n").filter(Boolean),
    );
    const { datasetId, tableId } = load.destinationTable;
    this.tables.set(`${datasetId}.${tableId}`, lines);
  }

  private async runQuery(projectId: string, request: { query: string; location?: string }) {
    const rows = await this.evaluateQuery(request.query);
    const jobId = `query_${this.nextId++}`;
    const result = {
      kind: "bigquery#queryResponse",
      jobReference: { projectId, jobId, location: request.location ?? "US" },
      jobComplete: true,
      schema: { fields: this.querySchema.map((f) => ({ ...f, mode: "NULLABLE" })) },
      rows: rows.map((row) => ({ f: row.map((v) => ({ v })) })),
      totalRows: String(rows.length),
    };
    this.queryResults.set(jobId, result);
    return { status: 200, body: result };
  }

  private objectResource(bucket: string, name: string, object: StoredObject): unknown {
    return {
      kind: "storage#object",
      bucket,
      name,
      size: String(object.bytes.length),
      generation: String(object.generation),
      contentType: object.contentType,
      md5Hash: md5Base64(object.bytes),
      crc32c: crc32cBase64(object.bytes),
    };
  }

  private startUpload(bucket: string, r: RecordedRequest) {
    const name = r.query.get("name")!;
    if (r.query.get("ifGenerationMatch") === "0" && this.objects.has(`${bucket}/${name}`)) {
      return {
        status: 412,
        body: googleError(
          412,
          "At least one of the pre-conditions you specified did not hold.",
          "conditionNotMet",
        ),
      };
    }
    const id = `upload-${this.nextId++}`;
    this.sessions.set(id, {
      bucket,
      name,
      metadata: r.body.length
        ? (JSON.parse(r.body.toString("utf8")) as Record<string, unknown>)
        : {},
      received: Buffer.alloc(0),
      finished: false,
    });
    const location = `${this.base}/upload/storage/v1/b/${bucket}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${id}`;
    return { status: 200, body: {}, headers: { location } };
  }

  /** A chunk (`Content-Range: bytes a-b/total|*`) or a status query (`bytes *\/*`). */
  private uploadChunk(r: RecordedRequest) {
    const session = this.sessions.get(r.query.get("upload_id")!);
    if (!session) return { status: 404, body: googleError(404, "No such upload", "notFound") };
    const range = String(r.headers["content-range"] ?? "");
    const incomplete = () => ({
      status: 308,
      body: undefined,
      headers: session.received.length
        ? { range: `bytes=0-${session.received.length - 1}` }
        : ({} as Record<string, string>),
    });
    const finish = () => {
      if (!session.finished) {
        session.finished = true;
        const previous = this.objects.get(`${session.bucket}/${session.name}`);
        this.objects.set(`${session.bucket}/${session.name}`, {
          bytes: session.received,
          generation: (previous?.generation ?? 0) + 1,
          contentType: session.metadata.contentType as string | undefined,
        });
      }
      return {
        status: 200,
        body: this.objectResource(
          session.bucket,
          session.name,
          this.objects.get(`${session.bucket}/${session.name}`)!,
        ),
      };
    };
    const status = /^bytes \*\/(\*|\d+)$/.exec(range);
    if (status) return session.finished ? finish() : incomplete();
    const chunk = /^bytes (\d+)-(\d+)\/(\*|\d+)$/.exec(range);
    if (!chunk)
      return { status: 400, body: googleError(400, `bad Content-Range ${range}`, "invalid") };
    const start = Number(chunk[1]);
    if (start > session.received.length) {
      return { status: 400, body: googleError(400, `chunk at ${start} leaves a gap`, "invalid") };
    }
    // Bytes the session holds already (a chunk resent from an earlier offset) are not appended again.
    const fresh = r.body.subarray(session.received.length - start);
    session.received = Buffer.concat([session.received, fresh]);
    if (chunk[3] !== "*" && session.received.length >= Number(chunk[3])) return finish();
    return incomplete();
  }
}

interface JobInsert {
  readonly jobReference: { projectId: string; jobId: string; location?: string };
  readonly configuration: StandInJob["configuration"];
}
