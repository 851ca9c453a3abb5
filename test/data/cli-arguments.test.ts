/**
 * `data migrate` / `data verify` refuse bad arguments with exit 2 and one clear line, before
 * connecting anywhere (the URLs below point at nothing).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");
const NOWHERE = ["--source", "mysql://reader@127.0.0.1:1/legacy", "--out", "/nonexistent/out"];

function cli(args: string[]): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [join(ROOT, "bin", "synter-infra.js"), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: result.status, stderr: result.stderr };
}

describe("data commands: argument errors", () => {
  test.each([
    [
      ["data", "migrate", ...NOWHERE, "--workers", "0"],
      "--workers must be between 1 and 32, got 0",
    ],
    [
      ["data", "verify", ...NOWHERE, "--workers", "33"],
      "--workers must be between 1 and 32, got 33",
    ],
    [
      ["data", "migrate", ...NOWHERE, "--workers", "two"],
      '--workers must be a non-negative integer, got "two"',
    ],
    [["data", "migrate", ...NOWHERE, "--page-size", "0"], "--page-size must be at least 1"],
    [["data", "migrate", ...NOWHERE, "--segment-rows", "0"], "--segment-rows must be at least 1"],
    [
      ["data", "migrate", ...NOWHERE, "--max-rejects", "-1"],
      '--max-rejects must be a non-negative integer, got "-1"',
    ],
    [["data", "verify", ...NOWHERE, "--tables", "nope"], "unknown table(s) nope"],
  ])("%j exits 2: %s", (args, message) => {
    const run = cli(args);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe("data commands: help", () => {
  /** The help's option lines joined back into one line per option (commander wraps at 80). */
  function helpOptions(command: string): Record<string, string> {
    const run = spawnSync(
      process.execPath,
      [join(ROOT, "bin", "synter-infra.js"), "data", command, "--help"],
      { cwd: ROOT, encoding: "utf8", timeout: 30_000 },
    );
    expect([run.status, run.stderr]).toEqual([0, ""]);
    const options: Record<string, string> = {};
    let current = "";
    for (const line of run.stdout.split("Options:\n")[1]!.split("\n")) {
      const start = /^ {2}(-[^ ]*(?: <[^>]+>)?) {2,}(.*)$/.exec(line);
      if (start) options[(current = start[1]!.split(" ")[0]!)] = start[2]!;
      else if (line.trim() !== "") options[current] += ` ${line.trim()}`;
    }
    return options;
  }

  test("data verify describes what its own options do, not migrate's", () => {
    const verify = helpOptions("verify");
    expect(verify).toMatchObject({
      "--out":
        "compare with the analytics load files `data migrate --out` wrote here instead of BigQuery",
      "--state-dir":
        "where `data migrate` kept its reject file: rejected rows are left out of the comparison (default: --out, else .synter-data-migration)",
      "--gcs-bucket":
        "not used by verify (it queries BigQuery directly); accepted so migrate's flags work",
    });
    expect(Object.keys(verify)).not.toContain("--resume");
    const migrate = helpOptions("migrate");
    expect(migrate).toMatchObject({
      "--out": "write the analytics load files here instead of loading BigQuery (no GCP)",
      "--state-dir": "checkpoint and reject files (default: --out, else .synter-data-migration)",
    });
  });
});
