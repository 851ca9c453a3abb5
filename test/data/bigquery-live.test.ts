/**
 * Live tier: loads and checksums a scratch table in a real BigQuery dataset, through the same
 * `BigQueryWarehouse` the migration uses, with Application Default Credentials of any kind
 * (GOOGLE_APPLICATION_CREDENTIALS naming a service-account key, an `external_account` file from
 * google-github-actions/auth, an impersonated service account; gcloud's application-default login;
 * the metadata server). It runs when SYNTER_BIGQUERY_LIVE_PROJECT and SYNTER_BIGQUERY_LIVE_DATASET
 * name a dataset whose `events` table exists (schema from `schema/`); with
 * SYNTER_BIGQUERY_LIVE_BUCKET the files are staged in that bucket too. Without them it is skipped,
 * and says so.
 */
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rowHash } from "../../src/data/checksum";
import { convertRow } from "../../src/data/convert";
import { loadFileName, writeLoadFile } from "../../src/data/load-files";
import { encodeNdjsonLine } from "../../src/data/row-encoding";
import { migrationTables } from "../../src/data/table-plan";
import { warehouseSteps } from "../support/bigquery-warehouse-steps";

const project = process.env.SYNTER_BIGQUERY_LIVE_PROJECT;
const dataset = process.env.SYNTER_BIGQUERY_LIVE_DATASET;
const bucket = process.env.SYNTER_BIGQUERY_LIVE_BUCKET;
const live = Boolean(project && dataset);
if (!live) {
  process.stderr.write(
    "skipped: BigQuery live tier (set SYNTER_BIGQUERY_LIVE_PROJECT and SYNTER_BIGQUERY_LIVE_DATASET, with Application Default Credentials, to run it)\n",
  );
} else if (!bucket) {
  process.stderr.write(
    "skipped: BigQuery live tier through Cloud Storage (set SYNTER_BIGQUERY_LIVE_BUCKET to run it)\n",
  );
}

const events = migrationTables().find((t) => t.name === "events")!;
const raw = [
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
];
const rows = raw.map((r) => convertRow(events.columns, r));
const expected = rows.reduce((sum, r) => sum + rowHash(events.columns, 0, r), 0n).toString();

async function loadAndChecksum(gcsBucket?: string): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "synter-bq-live-"));
  try {
    mkdirSync(join(work, "events"));
    const name = loadFileName("events", 1, { upTo: 2n });
    await writeLoadFile(work, name, [
      Buffer.from(rows.map((r) => encodeNdjsonLine(events.columns, r)).join(""), "utf8"),
    ]);
    const results = await warehouseSteps({ project: project!, dataset: dataset!, gcsBucket }, [
      { load: { table: "events", dir: work, files: [name] } },
      { checksum: { table: "events", range: {} } },
    ]);
    expect(results).toEqual([
      { jobId: expect.stringMatching(/^synter_migrate_events_[0-9a-f]{40}$/) },
      { checksum: { rows: 2, sum: expected } },
    ]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

(live ? describe : describe.skip)("BigQuery live: load job and checksum", () => {
  test("a load replaces the table and its checksum equals the tool's", () => loadAndChecksum());

  (bucket ? test : test.skip)("the same through files staged in Cloud Storage", () =>
    loadAndChecksum(bucket),
  );
});
