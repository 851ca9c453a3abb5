/**
 * `synter-infra local` never orphans its servers (issue 12): Ctrl-C or SIGTERM during the set-up
 * stops what was started and exits 130 with one line; SIGHUP (the terminal closed) stops like
 * Ctrl-C; and when the node process is SIGKILLed, so runs no handler at all, the servers notice
 * and stop by themselves. Each test runs the real CLI and checks by pid that nothing is left.
 */
import { mkdirSync, readFileSync, writeFileSync, chmodSync, existsSync } from "node:fs";
import { join } from "node:path";
import { findRedisServer } from "../../src/local/redis-server";
import {
  copyLocalData,
  isRunning,
  processesMentioning,
  reaperOf,
  runLocal,
  serverPids,
  startLocal,
  stillRunning,
  until,
  withRedis,
  useLocalProjects,
  type LocalProject,
} from "./local-cli";

/** What an interrupted set-up prints: one line, on stderr. */
const interrupted = (signal: string, step: string, stopped: string) =>
  `error: ${signal} during set-up, while ${step}: stopped ${stopped}; ` +
  "the data in .local is kept, run it again to finish\n";

describe("synter-infra local and signals", () => {
  const projects = useLocalProjects({ template: true });
  let project: LocalProject;
  beforeEach(() => {
    project = projects.project();
  });

  it("SIGTERM while Postgres initialises: initdb stopped, no half-made cluster, exit 130", async () => {
    const run = startLocal(["--no-redis", ...project.args]);
    await run.waitForLine("postgres: initialising a new cluster (initdb)");
    // initdb itself: its command line names the directory it fills. The CLI logs the step before
    // it spawns initdb, and on a loaded machine (a cold CI start) that gap has taken over 5 s.
    const initdbRuns = () =>
      processesMentioning(join(project.dir, ".local", "postgres.init")).filter(({ cmdline }) =>
        cmdline.includes("/initdb "),
      );
    await until(
      () => initdbRuns().length > 0,
      60_000,
      () => run.child.exitCode !== null,
    );
    const initdb = initdbRuns().map(({ pid }) => pid);
    expect(initdb.length).toBeGreaterThan(0);
    run.child.kill("SIGTERM");

    expect(await run.exited).toBe(130);
    expect(run.stderr()).toBe(interrupted("SIGTERM", "initialising Postgres", "Postgres"));
    expect(stillRunning(initdb)).toEqual([]);
    // The unfinished cluster is discarded (the next start makes a whole one); the passwords kept.
    expect(existsSync(join(project.dir, ".local", "postgres"))).toBe(false);
    expect(existsSync(join(project.dir, ".local", "postgres.init"))).toBe(false);
    expect(existsSync(join(project.dir, ".local", "credentials.json"))).toBe(true);
    expect(existsSync(join(project.dir, ".local", "run.pid"))).toBe(false);
  });

  withRedis(
    "SIGINT while migrations run, then while Redis starts: stops what runs, exit 130; a re-run finishes",
    async () => {
      const first = startLocal(["--no-sample-data", ...project.args]);
      await first.waitForLine("migrations: applying pending migrations as synter_migrator");
      const { postgres } = serverPids(project.dir);
      expect(postgres !== undefined && isRunning(postgres)).toBe(true);
      first.child.kill("SIGINT");
      expect(await first.exited).toBe(130);
      expect(first.stderr()).toBe(interrupted("SIGINT", "applying migrations", "Postgres"));
      expect(first.stdout()).not.toContain("migrations: applied");
      expect(stillRunning([postgres!])).toEqual([]);

      // A redis-server that takes its time: a wrapper that sleeps first, in the server's group.
      const bin = join(project.dir, "bin");
      mkdirSync(bin);
      const wrapperPids = join(project.dir, "wrapper.pids");
      writeFileSync(
        join(bin, "redis-server"),
        `#!/bin/sh\necho $$ > ${wrapperPids}\nsleep 60 &\necho $! >> ${wrapperPids}\nwait $!\n` +
          `exec ${findRedisServer()} "$@"\n`,
      );
      chmodSync(join(bin, "redis-server"), 0o755);
      const second = startLocal(["--no-sample-data", ...project.args], {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
      });
      await second.waitForLine(`redis: starting redis-server on 127.0.0.1:${project.redisPort}`);
      await until(() => readWrapperPids(wrapperPids).length === 2, 5000);
      const wrapper = readWrapperPids(wrapperPids);
      const postgresAgain = serverPids(project.dir).postgres!;
      expect(stillRunning([...wrapper, postgresAgain])).toEqual([...wrapper, postgresAgain]);
      second.child.kill("SIGINT");
      expect(await second.exited).toBe(130);
      expect(second.stderr()).toBe(interrupted("SIGINT", "starting Redis", "Redis and Postgres"));
      // The interrupted migrations were rolled back, so this run applied them whole.
      expect(second.stdout()).toMatch(/^migrations: applied \S+/m);
      expect(second.stdout()).toContain("verify: the database matches schema/\n");
      expect(stillRunning([...wrapper, postgresAgain])).toEqual([]);
    },
  );

  withRedis("SIGHUP (the terminal closed) stops Redis and Postgres like Ctrl-C", async () => {
    copyLocalData(projects.template(), project);
    const run = startLocal(["--no-sample-data", ...project.args]);
    await run.waitForLine("running: press Ctrl-C to stop");
    const { postgres, redis } = serverPids(project.dir);
    expect(stillRunning([postgres!, redis!])).toEqual([postgres, redis]);
    run.child.kill("SIGHUP");
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toContain("SIGHUP: stopping Redis and Postgres\nstopped\n");
    expect(run.stderr()).toBe("");
    expect(stillRunning([postgres!, redis!])).toEqual([]);
  });

  withRedis(
    "SIGKILL of the node process: the reaper stops Postgres and Redis (cleanly) within 5 s",
    async () => {
      copyLocalData(projects.template(), project);
      const run = startLocal(["--no-sample-data", ...project.args]);
      await run.waitForLine("running: press Ctrl-C to stop");
      const { postgres, redis } = serverPids(project.dir);
      const reaper = reaperOf(run.pid);
      expect(reaper).toBeDefined();
      expect(stillRunning([postgres!, redis!])).toEqual([postgres, redis]);
      run.child.kill("SIGKILL");
      expect(await run.exited).toBe(null);
      const killedAt = Date.now();
      await until(() => stillRunning([postgres!, redis!]).length === 0, 5000);
      expect(stillRunning([postgres!, redis!])).toEqual([]);
      expect(Date.now() - killedAt).toBeLessThan(5000);
      // A clean stop (fast shutdown, SIGTERM), not a kill: each server removed its pid file.
      expect(serverPids(project.dir)).toEqual({ postgres: undefined, redis: undefined });
      await until(() => !isRunning(reaper!), 6000);
      expect(isRunning(reaper!)).toBe(false);
      // And the next start finds nothing to adopt or stop.
      const next = runLocal(["--once", "--no-sample-data", ...project.args]);
      expect([next.status, next.stderr]).toEqual([0, ""]);
      expect(next.stdout).not.toContain("earlier run");
    },
  );
});

function readWrapperPids(file: string): number[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").split("\n").filter(Boolean).map(Number);
}
