/**
 * The BigQuery target on Google's client libraries, against a local stand-in of Google's APIs that
 * answers the clients' real requests (through their `apiEndpoint`): Workload Identity Federation
 * credentials exchanged at a local STS, load jobs with a deterministic id and WRITE_TRUNCATE, the
 * retries (503, rateLimitExceeded, a job's backend error, a lost response), a job that fails, Cloud
 * Storage staging with a resumable upload that is cut and resumed, and the checksum query, which
 * ZetaSQL evaluates over the rows the load put in the stand-in's table.
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import {
  attemptJobId,
  bigQueryWarehouse,
  loadJobId,
  type BigQueryWarehouseOptions,
} from "../../src/data/bigquery-warehouse";
import { rowHash, type KeyRange } from "../../src/data/checksum";
import { convertRow } from "../../src/data/convert";
import { stagedObjectName } from "../../src/data/gcs-staging";
import { loadFileName, writeLoadFile } from "../../src/data/load-files";
import { encodeNdjsonLine } from "../../src/data/row-encoding";
import { migrationTables } from "../../src/data/table-plan";
import { ZetaSql } from "../../src/zetasql/analyzer";
import { analyticsTableCatalog } from "../../src/zetasql/catalog";
import {
  GoogleCloudStandIn,
  IMPERSONATED_TOKEN,
  STS_TOKEN,
  type RecordedRequest,
} from "../support/google-cloud-stand-in";
import {
  warehouseSteps,
  type StepResult,
  type WarehouseStep,
} from "../support/bigquery-warehouse-steps";
import { zetaSqlCellsOfLines } from "../support/zetasql-load-rows";

const events = migrationTables().find((t) => t.name === "events")!;
const PROJECT = "synter-dev";
const DATASET = "synter_analytics";
const SERVICE_ACCOUNT = "migrator@synter-dev.iam.gserviceaccount.com";
/** Retries that wait 40 ms each (the cap), so backoff is visible and the tests stay quick. */
const FAST_RETRY = { maxRetries: 3, maxRetryDelaySeconds: 0.04 };

/** Legacy rows of `events` with hostile values: tabs, astral characters, a 999… decimal. */
const RAW_ROWS: (string | null)[][] = [
  [
    "1",
    "page_view",
    "2024-01-01 00:00:00.000001",
    null,
    "a",
    ...Array(11).fill(null),
    "tab\there",
    "999999999999.999999",
    "USD",
    '{"b":1,"a":"é😀"}',
  ],
  ["2", "purchase", "2024-01-02 00:00:00.123456", "u", ...Array(16).fill(null)],
  [
    "3",
    "sign_up",
    "2024-01-03 12:00:00.000000",
    "v",
    "b",
    ...Array(12).fill(null),
    "0.000001",
    "EUR",
    "[1,2.5,null]",
  ],
];
const ROWS = RAW_ROWS.map((r) => convertRow(events.columns, r));
const LINES = ROWS.map((r) => encodeNdjsonLine(events.columns, r).trimEnd());
const EXPECTED_SUM = ROWS.reduce((sum, r) => sum + rowHash(events.columns, 0, r), 0n).toString();
const FILES = [
  loadFileName("events", 1, { upTo: 2n }),
  loadFileName("events", 2, { after: 2n, upTo: 3n }),
];

function sha256(bytes: Buffer): Buffer {
  return createHash("sha256").update(bytes).digest();
}

/** The `jobReference.jobId` a job insert or upload carries. */
function jobIdOf(request: RecordedRequest): string {
  return /"jobId":"([^"]+)"/.exec(request.body.toString("latin1"))![1];
}

/** Milliseconds between consecutive requests. */
function gaps(requests: readonly RecordedRequest[]): number[] {
  return requests.slice(1).map((r, i) => r.at - requests[i].at);
}

describe("BigQueryWarehouse against a stand-in of Google's APIs", () => {
  let zeta: ZetaSql;
  let standIn: GoogleCloudStandIn;
  let work: string;
  let filesDir: string;
  let credentials: string;
  let fileBytes: Buffer[];

  beforeAll(async () => {
    zeta = await ZetaSql.start();
  });
  afterAll(async () => {
    await zeta?.stop();
  });

  beforeEach(async () => {
    work = mkdtempSync(join(tmpdir(), "synter-bq-"));
    filesDir = join(work, "files");
    mkdirSync(filesDir);
    await writeLoadFile(filesDir, FILES[0], [
      Buffer.from(
        ROWS.slice(0, 2)
          .map((r) => encodeNdjsonLine(events.columns, r))
          .join(""),
      ),
    ]);
    await writeLoadFile(filesDir, FILES[1], [
      Buffer.from(encodeNdjsonLine(events.columns, ROWS[2])),
    ]);
    fileBytes = FILES.map((f) => readFileSync(join(filesDir, f)));
    standIn = await GoogleCloudStandIn.start();
    credentials = standIn.writeExternalAccountCredentials(work, SERVICE_ACCOUNT);
    standIn.requiredToken = IMPERSONATED_TOKEN;
    // The checksum query, evaluated by ZetaSQL over what the loads left in the stand-in's table.
    const catalog = analyticsTableCatalog({ project: PROJECT, dataset: DATASET });
    standIn.evaluateQuery = async (sql) => {
      const lines = standIn.tables.get(`${DATASET}.events`) ?? [];
      const result = await zeta.evaluateQueryRaw(
        sql,
        {
          [`${PROJECT}.${DATASET}.events`]: zetaSqlCellsOfLines(lines, events, {
            project: PROJECT,
            dataset: DATASET,
          }),
        },
        catalog,
      );
      return result.rows.map((row) => [String(row[0].int64Value), row[1].stringValue ?? null]);
    };
  });
  afterEach(async () => {
    await standIn.stop();
    rmSync(work, { recursive: true, force: true });
  });

  /** The steps on one warehouse (in a real-Node worker thread), with the stand-in's endpoints. */
  function run(
    steps: readonly WarehouseStep[],
    options: Partial<BigQueryWarehouseOptions> = {},
    env?: NodeJS.ProcessEnv,
  ): Promise<StepResult[]> {
    return warehouseSteps(
      {
        project: PROJECT,
        dataset: DATASET,
        location: "US",
        apiEndpoint: standIn.base,
        storageApiEndpoint: standIn.base,
        credentialsFile: credentials,
        pollIntervalMs: 1,
        retry: FAST_RETRY,
        ...options,
      },
      steps,
      env,
    );
  }
  const load = (files: readonly string[] = FILES, partition?: string): WarehouseStep => ({
    load: { table: "events", dir: filesDir, files, partition },
  });
  const checksum = (range: KeyRange = {}): WarehouseStep => ({
    checksum: { table: "events", range },
  });

  const expectedJobId = () =>
    loadJobId(
      "events",
      FILES.map((name, i) => ({ name, sha256: sha256(fileBytes[i]) })),
    );

  test("ADC from an external_account file (GOOGLE_APPLICATION_CREDENTIALS): one STS exchange and one impersonation serve a load, a re-run and a checksum; the load is one WRITE_TRUNCATE job under the derived id; ZetaSQL's checksum of the loaded rows equals the tool's", async () => {
    const jobId = expectedJobId();
    expect(jobId).toMatch(/^synter_migrate_events_[0-9a-f]{40}$/);
    // The re-run of the same load finds the job: nothing is uploaded again.
    expect(
      await run(
        [load(), load(), checksum()],
        { credentialsFile: undefined },
        {
          ...process.env,
          GOOGLE_APPLICATION_CREDENTIALS: credentials,
        },
      ),
    ).toEqual([{ jobId }, { jobId }, { checksum: { rows: 3, sum: EXPECTED_SUM } }]);

    // The token: the subject token exchanged at STS, then the service account impersonated.
    const sts = standIn.requestsTo("POST", /^\/v1\/token$/);
    expect(sts).toHaveLength(1);
    expect(Object.fromEntries(new URLSearchParams(sts[0].body.toString("utf8")))).toEqual({
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      audience:
        "//iam.googleapis.com/projects/123456/locations/global/workloadIdentityPools/github/providers/synter",
      scope: "https://www.googleapis.com/auth/cloud-platform",
      requested_token_type: "urn:ietf:params:oauth:token-type:access_token",
      subject_token: "github-oidc-subject-token",
      subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
    });
    const impersonation = standIn.requestsTo("POST", /:generateAccessToken$/);
    expect(impersonation.map((r) => [r.path, r.headers.authorization])).toEqual([
      [
        `/v1/projects/-/serviceAccounts/${SERVICE_ACCOUNT}:generateAccessToken`,
        `Bearer ${STS_TOKEN}`,
      ],
    ]);
    expect(JSON.parse(impersonation[0].body.toString("utf8"))).toEqual({
      scope: ["https://www.googleapis.com/auth/bigquery"],
      lifetime: "3600s",
    });

    // Every API call, in order, with the impersonated token.
    const api = standIn.requests.filter((r) => !/^\/v1\//.test(r.path));
    expect(api.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /bigquery/v2/projects/${PROJECT}/jobs/${jobId}`, // not there yet: 404
      `POST /upload/bigquery/v2/projects/${PROJECT}/jobs`,
      `GET /bigquery/v2/projects/${PROJECT}/jobs/${jobId}`, // DONE
      `GET /bigquery/v2/projects/${PROJECT}/jobs/${jobId}`, // the re-run: found, DONE
      `POST /bigquery/v2/projects/${PROJECT}/queries`,
    ]);
    expect(new Set(api.map((r) => r.headers.authorization))).toEqual(
      new Set([`Bearer ${IMPERSONATED_TOKEN}`]),
    );
    expect(api[0].query.get("location")).toBe("US");

    // The upload: the job's metadata, then the files' bytes concatenated (one gzip stream).
    const upload = api[1];
    expect(upload.query.get("uploadType")).toBe("multipart");
    const metadata = JSON.parse(/\r\n\r\n(\{.*\})\r\n/.exec(upload.body.toString("latin1"))![1]);
    expect(metadata).toEqual({
      jobReference: { projectId: PROJECT, jobId, location: "US" },
      configuration: {
        load: {
          destinationTable: { projectId: PROJECT, datasetId: DATASET, tableId: "events" },
          sourceFormat: "NEWLINE_DELIMITED_JSON",
          writeDisposition: "WRITE_TRUNCATE",
          createDisposition: "CREATE_NEVER",
          maxBadRecords: 0,
          ignoreUnknownValues: false,
        },
      },
    });
    expect(standIn.jobs.get(jobId)!.data).toEqual(Buffer.concat(fileBytes));
    expect(standIn.tables.get(`${DATASET}.events`)).toEqual(LINES);

    // The checksum: standard SQL over the fully qualified table.
    const query = JSON.parse(api[4].body.toString("utf8"));
    expect(query).toMatchObject({ useLegacySql: false, location: "US" });
    expect(query.query).toMatch(/FROM `synter-dev\.synter_analytics\.events` WHERE TRUE$/);
  });

  test("an external_account file without impersonation: the STS token itself authorizes the calls", async () => {
    const direct = standIn.writeExternalAccountCredentials(filesDir);
    standIn.requiredToken = STS_TOKEN;
    expect(
      await run([checksum({ after: 10n, upTo: 20n }), checksum()], { credentialsFile: direct }),
    ).toEqual([{ checksum: { rows: 0, sum: "0" } }, { checksum: { rows: 0, sum: "0" } }]);
    expect(standIn.requestsTo("POST", /^\/v1\/token$/)).toHaveLength(1);
    expect(standIn.requestsTo("POST", /:generateAccessToken$/)).toHaveLength(0);
    const queries = standIn.requestsTo("POST", /\/queries$/);
    expect(queries.map((r) => r.headers.authorization)).toEqual([
      `Bearer ${STS_TOKEN}`,
      `Bearer ${STS_TOKEN}`,
    ]);
    expect(JSON.parse(queries[0].body.toString("utf8")).query).toMatch(
      /WHERE TRUE AND `id` > 10 AND `id` <= 20$/,
    );
  });

  test("a 503 on the load upload is retried after a backoff under the same job id: one job, the rows once", async () => {
    standIn.fail({ method: "POST", path: /^\/upload\/bigquery\// }, { respond: 503 });
    const jobId = expectedJobId();
    expect(await run([load()])).toEqual([{ jobId }]);
    const uploads = standIn.requestsTo("POST", /^\/upload\/bigquery\//);
    expect(uploads.map(jobIdOf)).toEqual([jobId, jobId]);
    expect(gaps(uploads)[0]).toBeGreaterThanOrEqual(40);
    expect([...standIn.jobs.keys()]).toEqual([jobId]);
    expect(standIn.tables.get(`${DATASET}.events`)).toEqual(LINES);
  });

  test("a 503 after BigQuery created the job (the answer was lost): the retry meets 409 and waits for that job, never loading twice", async () => {
    standIn.fail({ method: "POST", path: /^\/upload\/bigquery\// }, { respondAfterHandling: 503 });
    standIn.jobOutcome = () => ({ runningPolls: 2 });
    const jobId = expectedJobId();
    expect(await run([load()])).toEqual([{ jobId }]);
    const uploads = standIn.requestsTo("POST", /^\/upload\/bigquery\//);
    expect(uploads.map(jobIdOf)).toEqual([jobId, jobId]);
    expect([...standIn.jobs.keys()]).toEqual([jobId]);
    // Looked up before the upload (404), then RUNNING, RUNNING, DONE.
    expect(standIn.jobs.get(jobId)!.polls).toBe(3);
    expect(standIn.tables.get(`${DATASET}.events`)).toEqual(LINES);
  });

  test("a job that ends in error reaches the user as one line with BigQuery's messages, kind mismatch, and is not retried", async () => {
    const tooMany =
      "Error while reading data, error message: JSON table encountered too many errors, giving up. Rows: 2; errors: 1. Please look into the errors[] collection for more details.";
    standIn.jobOutcome = () => ({
      errorResult: { reason: "invalid", message: tooMany },
      errors: [
        { reason: "invalid", message: tooMany },
        {
          reason: "invalid",
          message:
            "Error while reading data, error message: JSON parsing error in row starting at position 0: Couldn't convert value to timestamp:\nCould not parse '2024-13-01' as a timestamp. Field: ts; Value: 2024-13-01",
        },
      ],
    });
    const jobId = expectedJobId();
    expect(await run([load()])).toEqual([
      {
        error: {
          name: "GoogleCloudError",
          kind: "mismatch",
          message: `BigQuery load job ${jobId} into ${DATASET}.events failed: ${tooMany} (Error while reading data, error message: JSON parsing error in row starting at position 0: Couldn't convert value to timestamp: Could not parse '2024-13-01' as a timestamp. Field: ts; Value: 2024-13-01)`,
        },
      },
    ]);
    expect([...standIn.jobs.keys()]).toEqual([jobId]);
    expect(standIn.requestsTo("POST", /^\/upload\/bigquery\//)).toHaveLength(1);
  });

  test("a job that ends in backendError is run again as a new job under a derived id; a re-run finds both and loads nothing", async () => {
    standIn.jobOutcome = ({ id }) =>
      id.endsWith("_retry1")
        ? {}
        : { errorResult: { reason: "backendError", message: "Backend error. Job aborted." } };
    const base = expectedJobId();
    const retried = attemptJobId(base, 1);
    expect(retried).toBe(`${base}_retry1`);
    expect(await run([load()])).toEqual([{ jobId: retried }]);
    expect([...standIn.jobs.keys()]).toEqual([base, retried]);
    expect(standIn.tables.get(`${DATASET}.events`)).toEqual(LINES);
    expect(standIn.requestsTo("POST", /^\/upload\/bigquery\//)).toHaveLength(2);
    expect(await run([load()])).toEqual([{ jobId: retried }]);
    expect(standIn.requestsTo("POST", /^\/upload\/bigquery\//)).toHaveLength(2);
  });

  test("rateLimitExceeded is retried with backoff by the client (job insert and checksum query); beyond the retries it is one line, kind unreachable", async () => {
    const message =
      "Exceeded rate limits: too many api requests per user per method for this user_method.";
    const rateLimited = {
      respond: 403,
      body: {
        error: {
          code: 403,
          message,
          errors: [{ reason: "rateLimitExceeded", domain: "usageLimits", message }],
        },
      },
    };
    standIn.fail(
      { method: "POST", path: /^\/bigquery\/v2\/projects\/[^/]+\/jobs$/ },
      rateLimited,
      2,
    );
    standIn.fail({ method: "POST", path: /\/queries$/ }, rateLimited, 1);
    const jobId = expectedJobId();
    expect(await run([load(), checksum()], { gcsBucket: "staging" })).toEqual([
      { jobId },
      { checksum: { rows: 3, sum: EXPECTED_SUM } },
    ]);
    const inserts = standIn.requestsTo("POST", /^\/bigquery\/v2\/projects\/[^/]+\/jobs$/);
    expect(inserts.map(jobIdOf)).toEqual([jobId, jobId, jobId]);
    for (const gap of gaps(inserts)) expect(gap).toBeGreaterThanOrEqual(40);
    const queries = standIn.requestsTo("POST", /\/queries$/);
    expect(queries).toHaveLength(2);
    expect(gaps(queries)[0]).toBeGreaterThanOrEqual(40);

    // More rate limits than retries (3): the client gives up, and the user reads one line.
    standIn.fail({ method: "POST", path: /\/queries$/ }, rateLimited, 4);
    expect(await run([checksum()])).toEqual([
      {
        error: {
          name: "GoogleCloudError",
          kind: "unreachable",
          message: `BigQuery kept failing (checksum query of ${DATASET}.events): 403 ${message}; run the same command again (\`data migrate --resume\` continues where it stopped) later`,
        },
      },
    ]);
    expect(standIn.requestsTo("POST", /\/queries$/)).toHaveLength(2 + 4);
  });

  test("--gcs-bucket: an upload cut mid-chunk resumes its session from the last chunk Cloud Storage holds; the job loads the objects by URI", async () => {
    // One file of three 256 KiB chunks and a bit (gzip level 0: stored, not compressed).
    const big = Array.from({ length: 1500 }, (_, i) =>
      encodeNdjsonLine(
        events.columns,
        convertRow(events.columns, [
          String(i + 1),
          `e${"x".repeat(479)}`,
          "2024-01-01 00:00:00.000000",
          ...Array(17).fill(null),
        ]),
      ),
    ).join("");
    const bigName = loadFileName("events", 1, { upTo: 1500n });
    writeFileSync(join(filesDir, bigName), gzipSync(big, { level: 0 }));
    const bytes = readFileSync(join(filesDir, bigName));
    const total = bytes.length;
    expect(total).toBeGreaterThan(3 * 262144);
    expect(total).toBeLessThan(4 * 262144);
    standIn.fail(
      {
        method: "PUT",
        path: /^\/upload\/storage\//,
        header: { name: "content-range", value: /^bytes 262144-/ },
      },
      { dropAfterBytes: 100_000 },
    );
    const jobId = loadJobId("events", [{ name: bigName, sha256: sha256(bytes) }]);
    expect(
      await run([load([bigName])], { gcsBucket: "staging", uploadChunkBytes: 262144 }),
    ).toEqual([{ jobId }]);

    // One upload session; its chunks in order, the cut one resent after a status query.
    const object = stagedObjectName({ name: bigName, sha256: sha256(bytes) });
    expect(object).toMatch(
      /^synter-data-migration\/events\/events-000001-start-1500-[0-9a-f]{16}\.ndjson\.gz$/,
    );
    const sessions = standIn.requestsTo("POST", /^\/upload\/storage\/v1\/b\/staging\/o$/);
    expect(sessions).toHaveLength(1);
    expect(sessions[0].query.get("name")).toBe(object);
    expect(sessions[0].query.get("ifGenerationMatch")).toBe("0");
    const puts = standIn.requestsTo("PUT", /^\/upload\/storage\//);
    expect(puts.map((r) => [r.headers["content-range"], r.dropped])).toEqual([
      ["bytes */*", false], // the session's offset, before the first chunk
      ["bytes 0-262143/*", false],
      ["bytes 262144-524287/*", true],
      ["bytes */*", false],
      ["bytes 262144-524287/*", false],
      ["bytes 524288-786431/*", false],
      [`bytes 786432-${total - 1}/${total}`, false],
    ]);
    expect(new Set(puts.map((r) => r.query.get("upload_id"))).size).toBe(1);
    // The object holds exactly the file's bytes (compared by digest: jest's deep equality of
    // a megabyte buffer takes seconds).
    expect(sha256(standIn.objects.get(`staging/${object}`)!.bytes)).toEqual(sha256(bytes));
    // The load job: by URI, WRITE_TRUNCATE, the staged rows in the table.
    const insert = standIn.requestsTo("POST", /^\/bigquery\/v2\/projects\/[^/]+\/jobs$/);
    expect(insert).toHaveLength(1);
    expect(JSON.parse(insert[0].body.toString("utf8"))).toEqual({
      jobReference: { projectId: PROJECT, jobId, location: "US" },
      configuration: {
        load: {
          destinationTable: { projectId: PROJECT, datasetId: DATASET, tableId: "events" },
          sourceFormat: "NEWLINE_DELIMITED_JSON",
          writeDisposition: "WRITE_TRUNCATE",
          createDisposition: "CREATE_NEVER",
          maxBadRecords: 0,
          ignoreUnknownValues: false,
          sourceUris: [`gs://staging/${object}`],
        },
      },
    });
    expect(standIn.tables.get(`${DATASET}.events`)).toEqual(big.split("\n").filter(Boolean));
    // Each client made its own token exchange, Cloud Storage with its scopes.
    expect(standIn.requestsTo("POST", /^\/v1\/token$/)).toHaveLength(2);
    expect(
      standIn
        .requestsTo("POST", /:generateAccessToken$/)
        .map((r) => (JSON.parse(r.body.toString("utf8")) as { scope: string[] }).scope)
        .sort(),
    ).toEqual([
      ["https://www.googleapis.com/auth/bigquery"],
      [
        "https://www.googleapis.com/auth/iam",
        "https://www.googleapis.com/auth/cloud-platform",
        "https://www.googleapis.com/auth/devstorage.full_control",
      ],
    ]);
  });

  test("--gcs-bucket: an object already staged is not uploaded again, and a 503 on the job insert is retried by the client", async () => {
    const first = stagedObjectName({ name: FILES[0], sha256: sha256(fileBytes[0]) });
    const second = stagedObjectName({ name: FILES[1], sha256: sha256(fileBytes[1]) });
    standIn.objects.set(`staging/${first}`, { bytes: fileBytes[0], generation: 1 });
    standIn.fail(
      { method: "POST", path: /^\/bigquery\/v2\/projects\/[^/]+\/jobs$/ },
      { respond: 503 },
    );
    const jobId = expectedJobId();
    expect(await run([load()], { gcsBucket: "staging" })).toEqual([{ jobId }]);
    expect(
      standIn.requestsTo("POST", /^\/upload\/storage\//).map((r) => r.query.get("name")),
    ).toEqual([second]);
    const inserts = standIn.requestsTo("POST", /^\/bigquery\/v2\/projects\/[^/]+\/jobs$/);
    expect(inserts.map(jobIdOf)).toEqual([jobId, jobId]);
    expect(gaps(inserts)[0]).toBeGreaterThanOrEqual(40);
    const load1 = JSON.parse(inserts[1].body.toString("utf8")) as {
      configuration: { load: { sourceUris: string[] } };
    };
    expect(load1.configuration.load.sourceUris).toEqual([
      `gs://staging/${first}`,
      `gs://staging/${second}`,
    ]);
    expect(standIn.tables.get(`${DATASET}.events`)).toEqual(LINES);
  });

  test("a partition load truncates only that partition, under an id of its own", async () => {
    const [result, bad] = await run([load(FILES, "20240101"), load(FILES, "2024-01-01")]);
    const jobId = (result as { jobId: string }).jobId;
    expect(jobId).toMatch(/^synter_migrate_events_20240101_[0-9a-f]{40}$/);
    expect(jobId).not.toBe(expectedJobId());
    expect(standIn.jobs.get(jobId)!.configuration.load!.destinationTable.tableId).toBe(
      "events$20240101",
    );
    expect(standIn.tables.get(`${DATASET}.events$20240101`)).toEqual(LINES);
    expect(standIn.tables.has(`${DATASET}.events`)).toBe(false);
    expect(bad).toEqual({
      error: {
        name: "GoogleCloudError",
        kind: "internal",
        message:
          'not a BigQuery partition id: "2024-01-01" (expected YYYY[MM[DD[HH]]], __NULL__ or __UNPARTITIONED__)',
      },
    });
  });

  test("credentials the STS refuses: one line, kind auth, before any API call", async () => {
    writeFileSync(join(work, "subject-token.jwt"), "an-expired-token");
    const [result] = await run([load()]);
    const error = (result as { error: { kind: string; message: string } }).error;
    expect(error.kind).toBe("auth");
    expect(error.message).toMatch(
      /^no usable Google credentials for BigQuery: .*invalid_grant.*; set GOOGLE_APPLICATION_CREDENTIALS to the path of a credentials file \(service_account, authorized_user, external_account \(Workload Identity Federation\) or impersonated_service_account\) or run `gcloud auth application-default login`$/,
    );
    expect(error.message).not.toMatch(/\n/);
    expect(standIn.requests.filter((r) => !/^\/v1\//.test(r.path))).toEqual([]);
  });

  test("GOOGLE_APPLICATION_CREDENTIALS holding the key itself (the old guide's mistake): kind config, saying it must be a path", async () => {
    const [result] = await run([checksum()], { credentialsFile: '{"type":"service_account"}' });
    const error = (result as { error: { kind: string; message: string } }).error;
    expect(error.kind).toBe("config");
    expect(error.message).toMatch(
      /^cannot read the credentials file \{"type":"service_account"\} \(GOOGLE_APPLICATION_CREDENTIALS\): .*ENOENT.*; it must be the path of a credentials JSON file, not its content$/,
    );
  });

  test("an API that refuses the token: one line, kind auth, naming the roles", async () => {
    standIn.requiredToken = "someone-else";
    expect(await run([checksum()])).toEqual([
      {
        error: {
          name: "GoogleCloudError",
          kind: "auth",
          message: `BigQuery refused the credentials (checksum query of ${DATASET}.events): Request had invalid authentication credentials.; check GOOGLE_APPLICATION_CREDENTIALS and that the account has roles/bigquery.jobUser on the project and roles/bigquery.dataEditor on the dataset`,
        },
      },
    ]);
  });

  test("one warehouse per thread and options, so tokens are kept across tables and key ranges", () => {
    const options: BigQueryWarehouseOptions = {
      project: PROJECT,
      dataset: DATASET,
      apiEndpoint: standIn.base,
      credentialsFile: credentials,
    };
    expect(bigQueryWarehouse(options)).toBe(bigQueryWarehouse({ ...options }));
    expect(bigQueryWarehouse(options)).not.toBe(
      bigQueryWarehouse({ ...options, dataset: "other" }),
    );
  });
});

describe("load job ids", () => {
  const file = (name: string, content: string) => ({ name, sha256: sha256(Buffer.from(content)) });

  test("change with the destination, a file's name or bytes, and stay stable otherwise", () => {
    const a = loadJobId("events", [file("f1", "x")]);
    expect(loadJobId("events", [file("f1", "x")])).toBe(a);
    expect(loadJobId("events", [file("f1", "y")])).not.toBe(a);
    expect(loadJobId("events", [file("f2", "x")])).not.toBe(a);
    expect(loadJobId("touchpoints", [file("f1", "x")])).not.toBe(a);
    expect(loadJobId("events", [file("f1", "x")], "20240101")).not.toBe(a);
  });

  test("a whole table's id is the one the previous REST client derived (a resumed run finds its job)", () => {
    expect(
      loadJobId("events", [
        file("events/a.ndjson.gz", "x"),
        file("events/b.ndjson.gz", '{"id":"1"}\n'),
      ]),
    ).toBe("synter_migrate_events_27a638926aca42fdab47244262f65395697499a8");
  });
});
