/**
 * Live tier: loads and checksums a scratch table in a real BigQuery dataset. It needs credentials
 * (GOOGLE_APPLICATION_CREDENTIALS or a metadata server) and SYNTER_BIGQUERY_LIVE_PROJECT /
 * SYNTER_BIGQUERY_LIVE_DATASET naming a dataset whose `events` table exists (schema from
 * `schema/`); without them it is skipped, and says so.
 */
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BigQueryRestTarget } from "../../src/data/bigquery-client";
import { rowHash } from "../../src/data/checksum";
import { convertRow } from "../../src/data/convert";
import { loadFileName, writeLoadFile } from "../../src/data/load-files";
import { encodeNdjsonLine } from "../../src/data/row-encoding";
import { migrationTables } from "../../src/data/table-plan";

const project = process.env.SYNTER_BIGQUERY_LIVE_PROJECT;
const dataset = process.env.SYNTER_BIGQUERY_LIVE_DATASET;
const live = Boolean(project && dataset && process.env.GOOGLE_APPLICATION_CREDENTIALS);
if (!live) {
  process.stderr.write(
    "skipped: BigQuery live tier (set GOOGLE_APPLICATION_CREDENTIALS, SYNTER_BIGQUERY_LIVE_PROJECT and SYNTER_BIGQUERY_LIVE_DATASET to run it)\n",
  );
}

(live ? describe : describe.skip)("BigQuery live: load job and checksum", () => {
  test("a load replaces the table and its checksum equals the tool's", async () => {
    const events = migrationTables().find((t) => t.name === "events")!;
    const work = mkdtempSync(join(tmpdir(), "synter-bq-live-"));
    try {
      mkdirSync(join(work, "events"));
      const raw = [
        [
          "1",
          "page_view",
          "2024-01-01 00:00:00.000001",
          null,
          "a",
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          "tab\there",
          "999999999999.999999",
          "USD",
          '{"b":1,"a":"é😀"}',
        ],
        [
          "2",
          "purchase",
          "2024-01-02 00:00:00.123456",
          "u",
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
        ],
      ];
      const rows = raw.map((r) => convertRow(events.columns, r));
      const name = loadFileName("events", 1, { upTo: 2n });
      await writeLoadFile(work, name, [
        Buffer.from(rows.map((r) => encodeNdjsonLine(events.columns, r)).join(""), "utf8"),
      ]);
      const target = new BigQueryRestTarget({ project: project!, dataset: dataset! });
      await target.loadTable(events, work, [name]);
      const expected = rows.reduce((sum, r) => sum + rowHash(events.columns, 0, r), 0n);
      expect(await target.checksum(events)({})).toEqual({ rows: 2, sum: expected.toString() });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
