/**
 * The ZetaSQL service's lifecycle (no orphan processes) and the general `evaluateQuery` API that
 * other parts (e.g. the data migration's checksum SQL) build on.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ZetaSql, ZetaSqlError, analyticsTableCatalog, type SqlCatalog } from "../../src/zetasql";

/** Alive = exists and is not a zombie (a container's init may reap late). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function waitUntilDead(pid: number, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !isAlive(pid);
}

describe("ZetaSQL service lifecycle", () => {
  let scratch: string;
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), "synter-zetasql-life-"));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("stop() ends the service process", async () => {
    const zeta = await ZetaSql.start();
    const pid = zeta.pid;
    expect(isAlive(pid)).toBe(true);
    await zeta.stop();
    await zeta.stop(); // idempotent
    expect(await waitUntilDead(pid)).toBe(true);
  });

  /** Runs a script that starts the service, prints its pid, then does `then`. */
  function runScript(
    then: string,
  ): Promise<{ pid: number; code: number | null; signal: string | null }> {
    const script = join(scratch, `script-${Math.random().toString(36).slice(2)}.ts`);
    writeFileSync(
      script,
      `import { ZetaSql } from ${JSON.stringify(resolve(__dirname, "../../src/zetasql"))};\n` +
        `ZetaSql.start().then((zeta) => { process.stdout.write(zeta.pid + "\\n"); ${then} });\n`,
    );
    return new Promise((done, fail) => {
      const child = spawn(process.execPath, ["--import", "tsx", script], {
        cwd: resolve(__dirname, "../.."),
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes("\n") && then.includes("SIGINT-ME")) child.kill("SIGINT");
      });
      child.on("error", fail);
      child.on("exit", (code, signal) => done({ pid: Number(out.trim()), code, signal }));
    });
  }

  it("leaves no service process behind when the owner dies of an uncaught exception", async () => {
    const result = await runScript(`setTimeout(() => { throw new Error("boom"); }, 10);`);
    expect(result.code).toBe(1);
    expect(result.pid).toBeGreaterThan(0);
    expect(await waitUntilDead(result.pid)).toBe(true);
  });

  it("leaves no service process behind on SIGINT, and the owner still terminates", async () => {
    const result = await runScript(`/* SIGINT-ME */ setInterval(() => {}, 1000);`);
    expect(result.signal).toBe("SIGINT");
    expect(result.pid).toBeGreaterThan(0);
    expect(await waitUntilDead(result.pid)).toBe(true);
  });
});

describe("ZetaSql.evaluateQuery", () => {
  let zeta: ZetaSql;
  beforeAll(async () => {
    zeta = await ZetaSql.start();
  });
  afterAll(async () => {
    await zeta?.stop();
  });

  const ledger: SqlCatalog = {
    tables: [
      {
        name: "acme-data.finance.ledger",
        columns: [
          { name: "id", type: "INTEGER", required: true },
          { name: "amount", type: "NUMERIC" },
          { name: "booked_at", type: "TIMESTAMP" },
          { name: "day", type: "DATE" },
          { name: "ok", type: "BOOLEAN" },
          { name: "doc", type: "JSON" },
          { name: "note", type: "STRING" },
        ],
      },
    ],
  };
  const rows = [
    {
      id: 1,
      amount: "-99999999999999999999999999999.999999999",
      booked_at: "2024-05-10T12:00:00.000001Z",
      day: "2024-02-29",
      ok: true,
      doc: { k: [1, "two"] },
      note: "é",
    },
    {
      id: "2",
      amount: "0.000000128",
      booked_at: null,
      day: null,
      ok: false,
      doc: null,
      note: null,
    },
  ];

  it("round-trips every supported type exactly through the service", async () => {
    const result = await zeta.evaluateQuery(
      "SELECT * FROM `acme-data.finance.ledger` ORDER BY id",
      { ledger: rows },
      ledger,
    );
    expect(result.columns.map((c) => `${c.name}:${c.type.typeKind}`)).toEqual([
      "id:TYPE_INT64",
      "amount:TYPE_NUMERIC",
      "booked_at:TYPE_TIMESTAMP",
      "day:TYPE_DATE",
      "ok:TYPE_BOOL",
      "doc:TYPE_JSON",
      "note:TYPE_STRING",
    ]);
    expect(result.rows).toEqual([
      {
        id: "1",
        amount: "-99999999999999999999999999999.999999999",
        booked_at: "2024-05-10T12:00:00.000001Z",
        day: "2024-02-29",
        ok: true,
        doc: { k: [1, "two"] },
        note: "é",
      },
      {
        id: "2",
        amount: "0.000000128",
        booked_at: null,
        day: null,
        ok: false,
        doc: null,
        note: null,
      },
    ]);
  });

  it("computes with BigQuery semantics: exact NUMERIC sums, structs and arrays", async () => {
    const result = await zeta.evaluateQuery(
      `SELECT SUM(amount) AS total, COUNT(*) AS n,
              ARRAY_AGG(STRUCT(id, note) ORDER BY id) AS items,
              UNIX_MICROS(MAX(booked_at)) AS last_at
       FROM \`acme-data.finance.ledger\``,
      {
        "acme-data.finance.ledger": [
          { id: 1, amount: "0.1", note: "a", booked_at: "2024-01-01T00:00:00.5Z" },
          { id: 2, amount: "0.2", note: null },
        ],
      },
      ledger,
    );
    expect(result.rows).toEqual([
      {
        total: "0.3",
        n: "2",
        items: [
          { id: "1", note: "a" },
          { id: "2", note: null },
        ],
        last_at: "1704067200500000",
      },
    ]);
  });

  it("rejects bad table contents naming table, row and column", async () => {
    await expect(
      zeta.evaluateQuery("SELECT 1", { ledger: [{ id: null }] }, ledger),
    ).rejects.toThrow("acme-data.finance.ledger row 0: id is REQUIRED");
    await expect(
      zeta.evaluateQuery("SELECT 1", { ledger: [{ id: 1, amount: "1.0000000001" }] }, ledger),
    ).rejects.toThrow(
      'acme-data.finance.ledger row 0, amount: "1.0000000001" has more than 9 decimal places',
    );
    await expect(
      zeta.evaluateQuery("SELECT 1", { ledger: [{ id: 1, colour: "red" }] }, ledger),
    ).rejects.toThrow("acme-data.finance.ledger row 0: unknown column(s) colour");
    await expect(zeta.evaluateQuery("SELECT 1", { nope: [] }, ledger)).rejects.toThrow(
      'table "nope" is not in the catalog (known: acme-data.finance.ledger)',
    );
  });

  it("raises ZetaSqlError with the position for invalid SQL", async () => {
    const error = await zeta
      .evaluateQuery("SELECT\n  missing_column FROM `acme-data.finance.ledger`", {}, ledger)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ZetaSqlError);
    expect(error).toMatchObject({
      message: "ZetaSQL at 2:3: Unrecognized name: missing_column",
      line: 2,
      column: 3,
    });
  });

  it("defaults to the schema/ tables under synter-dev.synter_analytics", async () => {
    expect(
      analyticsTableCatalog({ project: "synter-dev", dataset: "synter_analytics" }).tables.map(
        (t) => t.name,
      ),
    ).toEqual([
      "synter-dev.synter_analytics.events",
      "synter-dev.synter_analytics.ad_metrics",
      "synter-dev.synter_analytics.conversions",
      "synter-dev.synter_analytics.touchpoints",
      "synter-dev.synter_analytics.agent_runs",
    ]);
    const analysis = await zeta.analyze(
      "SELECT agent, COUNTIF(ok) AS ok_runs FROM `synter-dev.synter_analytics.agent_runs` GROUP BY agent",
    );
    expect(analysis).toEqual({
      ok: true,
      outputColumns: [
        { name: "agent", type: { typeKind: "TYPE_STRING" } },
        { name: "ok_runs", type: { typeKind: "TYPE_INT64" } },
      ],
    });
    const { rows } = await zeta.evaluateQuery(
      "SELECT agent, COUNTIF(ok) AS ok_runs FROM `synter-dev.synter_analytics.agent_runs` GROUP BY agent",
      {
        agent_runs: [
          { agent: "google-etl", run_id: "r1", started_at: "2024-05-10T00:00:00Z", ok: true },
          { agent: "google-etl", run_id: "r2", started_at: "2024-05-11T00:00:00Z", ok: false },
        ],
      },
    );
    expect(rows).toEqual([{ agent: "google-etl", ok_runs: "1" }]);
  });
});
