/**
 * The deploy rehearsal of every stack, through the real CLI (one process, as a user runs it): the
 * first `up` through Pulumi's dynamic-provider host against the Railway stand-in with real
 * Postgres (TLS, non-superuser admin) and Redis, the app's contract, a no-change `up`, a changed
 * setting, destroy, nothing left.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import type { StackReport } from "../../src/rehearse/rehearsal";
import { describeWithBinaries } from "../support/servers";

const ROOT = path.resolve(__dirname, "../..");
const CLI = path.join(ROOT, "bin/synter-infra.js");

function runCli(args: string[], timeout = 1_200_000) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: "utf8", timeout });
}

const CONTRACT = [
  "POSTGRES_URL: node-pg Pool connects over TLS",
  "POSTGRES_URL: the API's statements",
  "REDIS_URL: ioredis, maxmemory-policy noeviction",
  "REDIS_URL: a BullMQ job added and processed",
];

function phase(report: StackReport, name: string): Record<string, number> {
  const found = report.phases.find((p) => p.phase === name);
  if (!found)
    throw new Error(
      `${report.stack} has no phase "${name}": ${report.phases.map((p) => p.phase).join(", ")}`,
    );
  return { ...found.counts };
}

describe("rehearse: arguments", () => {
  it("refuses a stack name that is none of ours, in one line, exit 2", () => {
    const result = runCli(["rehearse", "--stack", "qa"], 60_000);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      "error: cannot rehearse qa: a stack is dev, staging, prod or pr-<n> (n ≥ 1)\n",
    );
  });
});

describeWithBinaries(["redis-server", "openssl"])(
  "rehearse every stack on the Railway default",
  () => {
    let reports: StackReport[];
    let stdout: string;
    let stderr: string;

    beforeAll(() => {
      const result = runCli([
        "rehearse",
        "--stack",
        "dev",
        "--stack",
        "staging",
        "--stack",
        "prod",
        "--stack",
        "pr-7",
        "--json",
      ]);
      stdout = result.stdout;
      stderr = result.stderr;
      if (result.status !== 0) {
        throw new Error(
          `rehearse exited ${result.status}:\n${stderr.split("\n").slice(-30).join("\n")}`,
        );
      }
      const lines = stdout.trim().split("\n");
      reports = JSON.parse(lines[lines.length - 1]) as StackReport[];
    }, 1_300_000);

    it("prints one summary line per stack", () => {
      const summaries = stdout.split("\n").filter((line) => line.startsWith("rehearse "));
      expect(summaries.map((line) => line.split(":")[0])).toEqual([
        "rehearse dev",
        "rehearse staging",
        "rehearse prod",
        "rehearse pr-7",
      ]);
      expect(summaries.every((line) => / ok in \d+\.\d s — up[: ]/.test(line))).toBe(true);
    });

    it.each(["dev", "staging", "prod"])(
      "%s: a first up only creates, a second changes nothing, a changed start command updates Redis in place, destroy leaves nothing",
      (stack) => {
        const report = reports.find((r) => r.stack === stack)!;
        expect(report.phases.map((p) => p.phase)).toEqual([
          "up",
          "app contract",
          "up again, nothing changed",
          "up with Redis's appendfsync changed",
          "destroy",
          "nothing left",
        ]);
        const up = phase(report, "up");
        expect(Object.keys(up).sort()).toEqual(["create", "simulated"]);
        expect(up.create).toBeGreaterThanOrEqual(25);
        expect(phase(report, "up again, nothing changed")).toEqual({
          same: up.create,
          simulated: up.simulated,
        });
        expect(phase(report, "up with Redis's appendfsync changed")).toEqual({
          update: 1,
          same: up.create - 1,
          simulated: up.simulated,
        });
        expect(phase(report, "destroy")).toEqual({ delete: up.create, simulated: up.simulated });
        expect(report.contract.map((check) => check.name)).toEqual(CONTRACT);
      },
    );

    it("pr-7 gets its own database on dev's server, and its destroy leaves dev intact", () => {
      const report = reports.find((r) => r.stack === "pr-7")!;
      expect(report.phases.map((p) => p.phase)).toEqual([
        "up dev (the servers a PR stack reuses)",
        "up",
        "app contract",
        "up again, nothing changed",
        "destroy",
        "nothing left",
        "destroy dev",
        "nothing left of dev",
      ]);
      const dev = phase(report, "up dev (the servers a PR stack reuses)");
      const up = phase(report, "up");
      // The StackReference to dev is read, not created.
      expect(up.same).toBe(1);
      expect(up.update ?? 0).toBe(0);
      // No Railway service of its own: fewer resources than dev.
      expect(up.create).toBeLessThan(dev.create);
      expect(phase(report, "up again, nothing changed").same).toBe(up.create + 1);
      expect(phase(report, "destroy").delete).toBe(up.create);
      expect(phase(report, "destroy dev").delete).toBe(dev.create);
      expect(report.contract.map((check) => check.name)).toEqual(CONTRACT);
    });

    it("waited for Railway's deployments and rode out its 429s (progress in the log)", () => {
      expect(stderr).toMatch(/RailwayPostgres "postgres": deployment \S+ SUCCESS after \d+ s/);
      expect(stderr).toMatch(
        /RailwayTcpProxy 127\.0\.0\.1:\d+: 127\.0\.0\.1:\d+ answers postgres after/,
      );
      expect(stderr).toMatch(/Rate limit exceeded; retrying in \d+ ms/);
      // No stack trace anywhere: every failure mode is a line.
      expect(stderr).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
    });
  },
);
