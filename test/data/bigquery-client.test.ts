/**
 * The BigQuery REST client against a local stand-in HTTP server: token exchange (service-account
 * JWT signed with node:crypto, and the metadata server), the multipart load job with a
 * deterministic id and WRITE_TRUNCATE, 409 on a retried job (waits, never loads twice), GCS
 * staging, job failures, and the checksum query with its polling.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { generateKeyPairSync, createVerify } from "node:crypto";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import {
  BigQueryRestTarget,
  loadJobId,
  type BigQueryEndpoints,
} from "../../src/data/bigquery-client";
import { migrationTables } from "../../src/data/table-plan";

interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

type Handler = (request: Recorded) => { status: number; body: unknown };

async function standIn(
  handler: Handler,
): Promise<{ server: Server; base: string; requests: Recorded[] }> {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const recorded = {
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(recorded);
      const { status, body } = handler(recorded);
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { server, base: `http://127.0.0.1:${port}`, requests };
}

const events = migrationTables().find((t) => t.name === "events")!;

describe("BigQueryRestTarget against a stand-in server", () => {
  let work: string;
  let servers: Server[] = [];
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });

  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "synter-bq-"));
    mkdirSync(join(work, "events"));
    writeFileSync(
      join(work, "events", "events-000001-start-2.ndjson.gz"),
      gzipSync('{"id":"1"}\n{"id":"2"}\n'),
    );
    writeFileSync(join(work, "events", "events-000002-2-3.ndjson.gz"), gzipSync('{"id":"3"}\n'));
  });
  afterEach(async () => {
    rmSync(work, { recursive: true, force: true });
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    servers = [];
  });

  function credentialsFile(tokenUri: string): string {
    const path = join(work, "sa.json");
    writeFileSync(
      path,
      JSON.stringify({
        type: "service_account",
        client_email: "migrator@synter-dev.iam.gserviceaccount.com",
        private_key: privateKey.export({ type: "pkcs8", format: "pem" }),
        token_uri: tokenUri,
      }),
    );
    return path;
  }

  const files = ["events/events-000001-start-2.ndjson.gz", "events/events-000002-2-3.ndjson.gz"];

  test("loads with one WRITE_TRUNCATE job whose id is derived from the files; a 409 retry waits instead of loading twice", async () => {
    let jobPolls = 0;
    const created = new Set<string>();
    const api = await standIn((r) => {
      if (r.url === "/token")
        return { status: 200, body: { access_token: "tok-1", expires_in: 3600 } };
      if (
        r.method === "POST" &&
        r.url.startsWith("/upload/bigquery/v2/projects/synter-dev/jobs?uploadType=multipart")
      ) {
        const id = /"jobId":"([^"]+)"/.exec(r.body.toString("latin1"))![1];
        if (created.has(id)) return { status: 409, body: { error: { message: "Already Exists" } } };
        created.add(id);
        return { status: 200, body: { status: { state: "RUNNING" } } };
      }
      if (r.method === "GET" && r.url.startsWith("/bigquery/v2/projects/synter-dev/jobs/")) {
        jobPolls++;
        return {
          status: 200,
          body: { status: { state: jobPolls % 2 === 1 ? "RUNNING" : "DONE" } },
        };
      }
      return { status: 404, body: {} };
    });
    servers.push(api.server);
    const endpoints: BigQueryEndpoints = {
      api: api.base,
      upload: `${api.base}/upload`,
      storage: api.base,
      metadata: api.base,
    };
    const target = new BigQueryRestTarget({
      project: "synter-dev",
      dataset: "synter_analytics",
      location: "US",
      endpoints,
      credentialsFile: credentialsFile(`${api.base}/token`),
      pollIntervalMs: 1,
    });
    const first = await target.loadTable(events, work, files);
    const second = await target.loadTable(events, work, files);
    expect(second).toBe(first);
    expect(first).toMatch(/^synter_migrate_events_[0-9a-f]{40}$/);

    // Token: the JWT-bearer grant with an RS256 assertion our public key verifies.
    const tokenRequests = api.requests.filter((r) => r.url === "/token");
    expect(tokenRequests).toHaveLength(1); // cached for the second load
    const form = new URLSearchParams(tokenRequests[0].body.toString("utf8"));
    expect(form.get("grant_type")).toBe("urn:ietf:params:oauth:grant-type:jwt-bearer");
    const [header, claims, signature] = form.get("assertion")!.split(".");
    expect(JSON.parse(Buffer.from(header, "base64url").toString())).toEqual({
      alg: "RS256",
      typ: "JWT",
    });
    expect(JSON.parse(Buffer.from(claims, "base64url").toString())).toMatchObject({
      iss: "migrator@synter-dev.iam.gserviceaccount.com",
      scope: "https://www.googleapis.com/auth/cloud-platform",
      aud: `${api.base}/token`,
    });
    expect(
      createVerify("RSA-SHA256")
        .update(`${header}.${claims}`)
        .verify(publicKey, Buffer.from(signature, "base64url")),
    ).toBe(true);

    // The load job: multipart metadata + the concatenated gzip files, WRITE_TRUNCATE, bearer token.
    const uploads = api.requests.filter((r) => r.url.includes("uploadType=multipart"));
    expect(uploads).toHaveLength(2);
    expect(uploads[0].headers.authorization).toBe("Bearer tok-1");
    const body = uploads[0].body.toString("latin1");
    const metadata = JSON.parse(/\r\n\r\n(\{.*\})\r\n/.exec(body)![1]);
    expect(metadata).toEqual({
      jobReference: { projectId: "synter-dev", jobId: first, location: "US" },
      configuration: {
        load: {
          destinationTable: {
            projectId: "synter-dev",
            datasetId: "synter_analytics",
            tableId: "events",
          },
          sourceFormat: "NEWLINE_DELIMITED_JSON",
          writeDisposition: "WRITE_TRUNCATE",
          createDisposition: "CREATE_NEVER",
          maxBadRecords: 0,
          ignoreUnknownValues: false,
        },
      },
    });
    expect(body).toContain(gzipSync('{"id":"1"}\n{"id":"2"}\n').toString("latin1"));
    // The second (409) attempt waited for the existing job: polls after both submissions.
    expect(api.requests.filter((r) => r.method === "GET").map((r) => r.url)).toEqual([
      `/bigquery/v2/projects/synter-dev/jobs/${first}?location=US`,
      `/bigquery/v2/projects/synter-dev/jobs/${first}?location=US`,
      `/bigquery/v2/projects/synter-dev/jobs/${first}?location=US`,
      `/bigquery/v2/projects/synter-dev/jobs/${first}?location=US`,
    ]);
  });

  test("job ids change with content and stay stable otherwise", () => {
    const a = loadJobId("events", [{ name: "f1", content: Buffer.from("x") }]);
    expect(loadJobId("events", [{ name: "f1", content: Buffer.from("x") }])).toBe(a);
    expect(loadJobId("events", [{ name: "f1", content: Buffer.from("y") }])).not.toBe(a);
    expect(loadJobId("touchpoints", [{ name: "f1", content: Buffer.from("x") }])).not.toBe(a);
  });

  test("with --gcs-bucket the files are staged in Cloud Storage and loaded by URI; job errors are reported", async () => {
    const api = await standIn((r) => {
      if (r.url.startsWith("/computeMetadata/v1/instance/service-accounts/default/token")) {
        return r.headers["metadata-flavor"] === "Google"
          ? { status: 200, body: { access_token: "meta-tok", expires_in: 3600 } }
          : { status: 403, body: {} };
      }
      if (r.url.startsWith("/upload/storage/v1/b/staging/o?uploadType=media"))
        return { status: 200, body: {} };
      if (r.method === "POST" && r.url === "/bigquery/v2/projects/p/jobs")
        return { status: 200, body: {} };
      if (r.method === "GET") {
        return {
          status: 200,
          body: {
            status: {
              state: "DONE",
              errorResult: { message: "Error while reading data" },
              errors: [{ message: "row 2: bad TIMESTAMP" }],
            },
          },
        };
      }
      return { status: 404, body: {} };
    });
    servers.push(api.server);
    const target = new BigQueryRestTarget({
      project: "p",
      dataset: "d",
      gcsBucket: "staging",
      endpoints: {
        api: api.base,
        upload: `${api.base}/upload`,
        storage: api.base,
        metadata: api.base,
      },
      credentialsFile: undefined,
      pollIntervalMs: 1,
    });
    const saved = process.env.GOOGLE_APPLICATION_CREDENTIALS;
    delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    try {
      await expect(target.loadTable(events, work, files)).rejects.toThrow(
        /^load job synter_migrate_events_[0-9a-f]{40} failed: Error while reading data \(row 2: bad TIMESTAMP\)$/,
      );
    } finally {
      if (saved !== undefined) process.env.GOOGLE_APPLICATION_CREDENTIALS = saved;
    }
    // Uploads run in parallel: order them by object name (= file order).
    const uploads = api.requests
      .filter((r) => r.url.startsWith("/upload/storage"))
      .sort((a, b) => a.url.localeCompare(b.url));
    expect(uploads.map((r) => decodeURIComponent(r.url.split("name=")[1]))).toEqual([
      expect.stringMatching(
        /^synter-data-migration\/events\/events-000001-start-2-[0-9a-f]{16}\.ndjson\.gz$/,
      ),
      expect.stringMatching(
        /^synter-data-migration\/events\/events-000002-2-3-[0-9a-f]{16}\.ndjson\.gz$/,
      ),
    ]);
    const job = JSON.parse(
      api.requests.find((r) => r.url === "/bigquery/v2/projects/p/jobs")!.body.toString(),
    );
    expect(job.configuration.load.sourceUris).toEqual(
      uploads.map((r) => `gs://staging/${decodeURIComponent(r.url.split("name=")[1])}`),
    );
    expect(job.configuration.load.writeDisposition).toBe("WRITE_TRUNCATE");
    expect(uploads[0].headers.authorization).toBe("Bearer meta-tok");
  });

  test("the checksum query runs as standard SQL and polls until the job completes", async () => {
    const api = await standIn((r) => {
      if (r.url === "/token") return { status: 200, body: { access_token: "t", expires_in: 3600 } };
      if (r.method === "POST" && r.url === "/bigquery/v2/projects/p/queries") {
        return { status: 200, body: { jobComplete: false, jobReference: { jobId: "q1" } } };
      }
      if (r.url.startsWith("/bigquery/v2/projects/p/queries/q1")) {
        return {
          status: 200,
          body: { jobComplete: true, rows: [{ f: [{ v: "3" }, { v: "123456789012345678901" }] }] },
        };
      }
      return { status: 404, body: {} };
    });
    servers.push(api.server);
    const target = new BigQueryRestTarget({
      project: "p",
      dataset: "d",
      endpoints: { api: api.base, upload: api.base, storage: api.base, metadata: api.base },
      credentialsFile: credentialsFile(`${api.base}/token`),
    });
    expect(await target.checksum(events)({ after: 10n, upTo: 20n })).toEqual({
      rows: 3,
      sum: "123456789012345678901",
    });
    const query = JSON.parse(
      api.requests.find((r) => r.url === "/bigquery/v2/projects/p/queries")!.body.toString(),
    );
    expect(query.useLegacySql).toBe(false);
    expect(query.query).toMatch(/FROM `p\.d\.events` WHERE TRUE AND `id` > 10 AND `id` <= 20$/);
  });

  test("an HTTP error names the request and the status", async () => {
    const api = await standIn((r) =>
      r.url === "/token"
        ? { status: 400, body: { error: "invalid_grant" } }
        : { status: 404, body: {} },
    );
    servers.push(api.server);
    const target = new BigQueryRestTarget({
      project: "p",
      dataset: "d",
      endpoints: { api: api.base, upload: api.base, storage: api.base, metadata: api.base },
      credentialsFile: credentialsFile(`${api.base}/token`),
    });
    await expect(target.checksum(events)({})).rejects.toThrow(
      'token request failed: 400 {"error":"invalid_grant"}',
    );
  });
});
