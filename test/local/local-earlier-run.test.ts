/**
 * `synter-infra local` and what an earlier run left behind (issue 12): servers still running are
 * adopted when they are this project's and healthy, stopped otherwise, with one line saying which;
 * a port some other program holds is one line naming it (exit 3); `--reset` refuses (exit 8) while
 * a run or its servers still run, and `--stop` stops them. The real CLI, checked by pid.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../support/embedded-postgres";
import {
  copyLocalData,
  leaveServersBehind,
  redisInstalled,
  runLocal,
  startLocal,
  stillRunning,
  withRedis,
  useLocalProjects,
  type LocalProject,
} from "./local-cli";

describe("synter-infra local and the servers of an earlier run", () => {
  const projects = useLocalProjects({ template: true });
  let project: LocalProject;
  beforeEach(() => {
    project = projects.project();
  });

  withRedis(
    "adopts the Postgres and Redis an earlier run left, being its own and healthy",
    async () => {
      copyLocalData(projects.template(), project);
      const left = await leaveServersBehind(project.args, project.dir);

      const run = runLocal(["--once", "--no-sample-data", ...project.args]);
      expect([run.status, run.stderr]).toEqual([0, ""]);
      const lines = run.stdout.split("\n");
      expect(lines.slice(0, 3)).toEqual([
        `postgres: adopted the server an earlier run left running (pid ${left.postgres} on port ${project.pgPort})`,
        `redis: adopted the server an earlier run left running (pid ${left.redis} on port ${project.redisPort})`,
        "postgres: ready",
      ]);
      expect(lines).toContain("verify: the database matches schema/");
      expect(run.stdout).not.toMatch(/^(postgres|redis): starting/m);
      // Adopted means owned: --once stopped them as its own.
      expect(stillRunning([left.postgres, left.redis])).toEqual([]);
    },
  );

  withRedis("stops them when it cannot adopt them (other ports), then starts its own", async () => {
    copyLocalData(projects.template(), project);
    const left = await leaveServersBehind(project.args, project.dir);
    const pgPort = await freePort();
    const redisPort = await freePort();

    const run = runLocal([
      "--once",
      "--no-sample-data",
      "--project-dir",
      project.dir,
      "--port",
      String(pgPort),
      "--redis-port",
      String(redisPort),
    ]);
    expect([run.status, run.stderr]).toEqual([0, ""]);
    const lines = run.stdout.split("\n");
    expect(lines.slice(0, 3)).toEqual([
      `postgres: stopped the server an earlier run left running (pid ${left.postgres}: it listens on port ${project.pgPort}, not ${pgPort})`,
      `redis: stopped the server an earlier run left running (pid ${left.redis}: it listens on port ${project.redisPort}, not ${redisPort})`,
      `postgres: starting PostgreSQL 15 on 127.0.0.1:${pgPort} (data in .local/postgres)`,
    ]);
    expect(lines).toContain(`redis: starting redis-server on 127.0.0.1:${redisPort}`);
    expect(stillRunning([left.postgres, left.redis])).toEqual([]);
  });

  it("a port some other program holds: one line naming the port, its holder and what to do", async () => {
    const holder = spawn(process.execPath, [
      "-e",
      `const net = require("net");
       for (const port of [${project.pgPort}, ${project.redisPort}])
         net.createServer().listen(port, "127.0.0.1");
       setTimeout(() => console.log("listening"), 100);`,
    ]);
    try {
      await new Promise((resolve) => holder.stdout.once("data", resolve));
      const postgres = runLocal(["--once", "--no-redis", ...project.args]);
      expect([postgres.status, postgres.stdout, postgres.stderr]).toEqual([
        3,
        "",
        `error: port ${project.pgPort} is in use by node (pid ${holder.pid}), not by a server of ` +
          "this project: stop it, or pass --port <a free port>\n",
      ]);
      // Nothing was started, so nothing made: the check comes before initdb.
      expect(existsSync(join(project.dir, ".local", "postgres"))).toBe(false);
      if (redisInstalled) {
        const freePg = await freePort();
        const redis = runLocal(["--once", ...project.args, "--port", String(freePg)]);
        expect([redis.status, redis.stdout, redis.stderr]).toEqual([
          3,
          "",
          `error: port ${project.redisPort} is in use by node (pid ${holder.pid}), not by a ` +
            "server of this project: stop it, or pass --redis-port <a free port>\n",
        ]);
      }
    } finally {
      holder.kill("SIGKILL");
    }
  });

  withRedis(
    "--reset refuses (exit 8, nothing deleted) while a run or its servers still run; --stop stops them",
    async () => {
      copyLocalData(projects.template(), project);
      const credentials = join(project.dir, ".local", "credentials.json");
      const passwords = readFileSync(credentials, "utf8");

      const live = startLocal(["--no-sample-data", ...project.args]);
      await live.waitForLine("running: press Ctrl-C to stop");
      const whileRunning = runLocal(["--once", "--reset", ...project.args]);
      expect([whileRunning.status, whileRunning.stdout, whileRunning.stderr]).toEqual([
        8,
        "",
        `error: --reset refused: another synter-infra local (pid ${live.pid}) is running on .local: ` +
          `stop it first (Ctrl-C in its terminal, or kill ${live.pid})\n`,
      ]);
      const second = runLocal(["--once", ...project.args]);
      expect([second.status, second.stderr]).toEqual([
        8,
        `error: another synter-infra local (pid ${live.pid}) is running on .local: ` +
          `stop it first (Ctrl-C in its terminal, or kill ${live.pid})\n`,
      ]);
      live.child.kill("SIGINT");
      expect(await live.exited).toBe(0);

      const left = await leaveServersBehind(project.args, project.dir);
      const afterCrash = runLocal(["--once", "--reset", ...project.args]);
      expect([afterCrash.status, afterCrash.stdout, afterCrash.stderr]).toEqual([
        8,
        "",
        `error: --reset refused: Postgres (pid ${left.postgres}) and Redis (pid ${left.redis}) of an ` +
          "earlier run are still running on .local: stop them with `synter-infra local --stop` " +
          "(npm start -- --stop), then reset\n",
      ]);
      expect(stillRunning([left.postgres, left.redis])).toEqual([left.postgres, left.redis]);
      expect(existsSync(join(project.dir, ".local", "postgres", "PG_VERSION"))).toBe(true);
      expect(readFileSync(credentials, "utf8")).toBe(passwords);

      const stop = runLocal(["--stop", ...project.args]);
      expect([stop.status, stop.stdout, stop.stderr]).toEqual([
        0,
        `redis: stopped the server an earlier run left running (pid ${left.redis})\n` +
          `postgres: stopped the server an earlier run left running (pid ${left.postgres})\n`,
        "",
      ]);
      expect(stillRunning([left.postgres, left.redis])).toEqual([]);
      const again = runLocal(["--stop", ...project.args]);
      expect([again.status, again.stdout, again.stderr]).toEqual([
        0,
        "nothing to stop: no server of an earlier run is running on .local\n",
        "",
      ]);
    },
  );
});
