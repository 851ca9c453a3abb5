/**
 * How `data migrate` / `data verify` fail, through the real CLI process: every infrastructure
 * failure (a server refused, unknown, with other credentials or without the database, a Postgres
 * URL as the source, a server dying mid-run, a full disk, Ctrl-C) is one `error:` line with the
 * exit code of its kind, no stack trace; a run that stopped says the exact command that continues
 * it, and that command gives the result of an uninterrupted run.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { createConnection } from "mysql2/promise";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../support/embedded-postgres";
import { startMariaDb, type MariaDb } from "../support/mariadb";
import { describeWithBinaries } from "../support/servers";
import {
  cli,
  dumpFiles,
  dumpPostgres,
  errorLines,
  expectFailure,
  nextCommand,
  statusOf,
  TcpProxy,
  type CliRun,
} from "./cli-process";
import { loadLegacyFixture } from "./legacy-fixture";
import { createAuthSchema } from "./target-schema";

const PAGE_SIZE = "7";

/** A port nothing listens on (taken from the OS, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === "object" && address ? address.port : 1;
}

/** Whether this process may mount a tmpfs (root): the full-disk cases need one. */
function canMountTmpfs(): boolean {
  if (userInfo().uid !== 0) return false;
  const probe = mkdtempSync(join(tmpdir(), "synter-tmpfs-probe-"));
  try {
    const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe]);
    if (mounted.status !== 0) return false;
    spawnSync("umount", [probe]);
    return true;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

const TMPFS = canMountTmpfs();
if (!TMPFS) process.stderr.write("skipped: the full-disk cases need root to mount a tmpfs\n");
const testWithTmpfs = TMPFS ? test : test.skip;

/** A tiny tmpfs at `dir` with about `free` bytes left (the rest taken by a filler file). */
function smallDisk(
  dir: string,
  sizeKb: number,
  free: number,
): { unmount: () => void; filler: string } {
  mkdirSync(dir, { recursive: true });
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${sizeKb}k`, "tmpfs", dir], {
    encoding: "utf8",
  });
  if (mounted.status !== 0) throw new Error(`mount failed: ${mounted.stderr}`);
  const filler = join(dir, "filler");
  const stats = statfsSync(dir);
  writeFileSync(filler, Buffer.alloc(Math.max(0, stats.bavail * stats.bsize - free)));
  return {
    filler,
    unmount: () => {
      spawnSync("umount", [dir]);
    },
  };
}

describeWithBinaries(["mariadbd"])("data migrate / verify: failures through the CLI", () => {
  let maria: MariaDb;
  let pgServer: EmbeddedPostgres;
  let work: string;
  let legacyUrl: string;
  let reference: {
    pg: Awaited<ReturnType<typeof dumpPostgres>>;
    files: ReturnType<typeof dumpFiles>;
  };
  const unmounts: (() => void)[] = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "synter-data-failures-"));
    [maria, pgServer] = await Promise.all([startMariaDb(), startEmbeddedPostgres()]);
    legacyUrl = maria.url("legacy");
    await loadLegacyFixture(maria.url("mysql"), "legacy", 40);
    const admin = await createConnection({ uri: maria.url("mysql") });
    try {
      await admin.query("CREATE USER 'reader'@'%' IDENTIFIED BY 'right-password'");
      await admin.query("GRANT SELECT ON legacy.* TO 'reader'@'%'");
    } finally {
      await admin.end();
    }
    // The result every stopped-then-resumed run below must reach.
    const pg = await target("synter_reference");
    const out = join(work, "reference");
    const run = await cli(migrateArgs(legacyUrl, pg, out));
    expect(statusOf(run)).toEqual({ status: 0 });
    reference = { pg: await dumpPostgres(pg), files: dumpFiles(out) };
  });

  afterAll(async () => {
    for (const unmount of unmounts) unmount();
    await Promise.all([maria?.stop(), pgServer?.stop()]);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  async function target(name: string): Promise<string> {
    const url = await pgServer.createDatabase(name);
    await createAuthSchema(url);
    return url;
  }

  function migrateArgs(source: string, pg: string, out: string, extra: string[] = []): string[] {
    return [
      "data",
      "migrate",
      "--source",
      source,
      "--postgres",
      pg,
      "--out",
      out,
      "--page-size",
      PAGE_SIZE,
      "--workers",
      "1",
      "--json",
      ...extra,
    ];
  }

  /**
   * The stopped run's own `--resume` command, run as it is printed, but for the Postgres password,
   * which messages mask (`***`) and the user types again.
   */
  async function resumeAsTold(stopped: CliRun): Promise<CliRun> {
    const args = nextCommand(stopped);
    expect(args.slice(0, 2)).toEqual(["data", "migrate"]);
    expect(args[args.length - 1]).toBe("--resume");
    expect(stopped.stderr).not.toContain(pgServer.password);
    return cli(args.map((a) => a.replace(":***@", `:${pgServer.password}@`)));
  }

  /** A Postgres URL as messages print it: the password masked. */
  const masked = (url: string) => url.replace(`:${pgServer.password}@`, ":***@");

  describe("servers that cannot be used: one line, the kind's exit code", () => {
    let pgUrl: string;
    let out: string;
    beforeAll(async () => {
      pgUrl = await target("synter_connect");
      out = join(work, "connect");
    });

    test("the source refuses the connection", async () => {
      const port = await closedPort();
      const run = await cli(migrateArgs(`mysql://root@127.0.0.1:${port}/legacy`, pgUrl, out));
      expectFailure(
        run,
        "unreachable",
        `error: cannot reach the source database at 127.0.0.1:${port}: connection refused (is it running? check the host and port of --source)`,
      );
    });

    test("the source's host does not resolve", async () => {
      const run = await cli(
        migrateArgs("mysql://root@no-such-host.invalid:3306/legacy", pgUrl, out),
      );
      expectFailure(
        run,
        "unreachable",
        "error: cannot reach the source database at no-such-host.invalid:3306: unknown host (check the host of --source)",
      );
    });

    test("the source refuses the password, which no message repeats", async () => {
      const run = await cli(
        migrateArgs(`mysql://reader:wrong-password@127.0.0.1:${maria.port}/legacy`, pgUrl, out),
      );
      expectFailure(
        run,
        "auth",
        new RegExp(
          `^error: the source database at 127\\.0\\.0\\.1:${maria.port} refused user "reader" \\(Access denied for user 'reader'@'[\\w.]+' \\(using password: YES\\)\\); check the user and password in --source$`,
        ),
      );
      expect(run.stderr).not.toContain("wrong-password");
    });

    test("the source has no such database", async () => {
      const run = await cli(migrateArgs(maria.url("no_such_db"), pgUrl, out));
      expectFailure(
        run,
        "config",
        `error: database "no_such_db" does not exist on the source server at 127.0.0.1:${maria.port}; check the database name in --source`,
      );
    });

    test("a postgres:// URL as --source is refused before connecting (it used to wait 10 s)", async () => {
      // A server that accepts and never answers: a MySQL client would wait for its handshake.
      const silent: Server = createServer(() => undefined);
      await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
      const address = silent.address();
      const port = typeof address === "object" && address ? address.port : 0;
      try {
        const run = await cli(
          migrateArgs(`postgres://postgres:secret@127.0.0.1:${port}/synter`, pgUrl, out),
        );
        expectFailure(
          run,
          "usage",
          `error: --source postgres://127.0.0.1:${port}/synter is a Postgres URL; --source is the legacy SingleStore/MySQL database (mysql://user:password@host:port/database), the Postgres target goes in --postgres`,
        );
        expect(run.ms).toBeLessThan(8000);
      } finally {
        silent.close();
      }
    });

    test("the Postgres target refuses the connection", async () => {
      const port = await closedPort();
      const run = await cli(
        migrateArgs(legacyUrl, `postgres://postgres:pw@127.0.0.1:${port}/synter`, out),
      );
      expectFailure(
        run,
        "unreachable",
        `error: cannot reach the Postgres target at 127.0.0.1:${port}: connection refused (is it running? check the host and port of --postgres)`,
      );
    });

    test("the Postgres target's host does not resolve", async () => {
      const run = await cli(
        migrateArgs(legacyUrl, "postgres://postgres:pw@no-such-host.invalid:5432/synter", out),
      );
      expectFailure(
        run,
        "unreachable",
        "error: cannot reach the Postgres target at no-such-host.invalid:5432: unknown host (check the host of --postgres)",
      );
    });

    test("the Postgres target refuses the password", async () => {
      const wrong = pgUrl.replace(`:${pgServer.password}@`, ":wrong-password@");
      const run = await cli(migrateArgs(legacyUrl, wrong, out));
      expectFailure(
        run,
        "auth",
        `error: the Postgres target at 127.0.0.1:${pgServer.port} refused user "postgres" (password authentication failed for user "postgres"); check the user and password in --postgres`,
      );
      expect(run.stderr).not.toContain("wrong-password");
    });

    test("the Postgres target has no such database", async () => {
      const run = await cli(migrateArgs(legacyUrl, pgServer.url("no_such_db"), out));
      expectFailure(
        run,
        "config",
        `error: database "no_such_db" does not exist on the Postgres server at 127.0.0.1:${pgServer.port}; create it and run \`synter-infra migrate up\` first`,
      );
    });

    test("data verify fails the same way", async () => {
      const port = await closedPort();
      const source = await cli([
        "data",
        "verify",
        "--source",
        `mysql://root@127.0.0.1:${port}/legacy`,
        "--postgres",
        pgUrl,
        "--out",
        out,
      ]);
      expectFailure(
        source,
        "unreachable",
        `error: cannot reach the source database at 127.0.0.1:${port}: connection refused (is it running? check the host and port of --source)`,
      );
      const wrong = pgUrl.replace(`:${pgServer.password}@`, ":wrong-password@");
      const pg = await cli([
        "data",
        "verify",
        "--source",
        legacyUrl,
        "--postgres",
        wrong,
        "--out",
        out,
      ]);
      expectFailure(
        pg,
        "auth",
        `error: the Postgres target at 127.0.0.1:${pgServer.port} refused user "postgres" (password authentication failed for user "postgres"); check the user and password in --postgres`,
      );
    });
  });

  describe("a server dying mid-run: one line with the --resume command, which finishes the job", () => {
    test("the source is killed (SIGKILL) mid-run, restarted, and the run resumed", async () => {
      const dying = await startMariaDb();
      const proxy = new TcpProxy(dying.port);
      try {
        await loadLegacyFixture(dying.url("mysql"), "legacy", 40);
        // The test servers do not flush InnoDB's log at each commit: without this, the kill can
        // take the fixture's last second of rows with it, and the resumed run finds fewer.
        // FLUSH ENGINE LOGS writes the log out only where commits flush it (MariaDB's
        // innobase_flush_logs), so the setting goes first.
        const admin = await createConnection({ uri: dying.url("mysql") });
        await admin.query("SET GLOBAL innodb_flush_log_at_trx_commit = 1");
        await admin.query("FLUSH ENGINE LOGS");
        await admin.end();
        const port = await proxy.start();
        const source = `mysql://root@127.0.0.1:${port}/legacy`;
        const pg = await target("synter_source_killed");
        const out = join(work, "source-killed");
        // Well into the copy: the planning queries are behind, most ranges ahead.
        proxy.cutAfter("toClient", 60_000, () => dying.kill());
        const stopped = await cli(migrateArgs(source, pg, out));
        await proxy.whenCut();
        expectFailure(
          stopped,
          "unreachable",
          new RegExp(
            `^error: (lost the connection to the source database at 127\\.0\\.0\\.1:${port} mid-run \\((the server closed it|ECONNRESET)\\)|cannot reach the source database at 127\\.0\\.0\\.1:${port}: connection refused \\(is it running\\? check the host and port of --source\\)); ` +
              `what was copied is checkpointed in ${out}; to continue, run: synter-infra data migrate --source ${source} .* --resume$`,
          ),
        );
        const state = JSON.parse(readFileSync(join(out, "migration-state.json"), "utf8")) as {
          tables: Record<string, { rows: number; done: boolean }>;
        };
        expect(Object.values(state.tables).some((t) => t.rows > 0)).toBe(true);
        expect(Object.values(state.tables).every((t) => t.done)).toBe(false);

        await dying.restart();
        await proxy.reopen();
        const resumed = await resumeAsTold(stopped);
        expect(statusOf(resumed)).toEqual({ status: 0 });
        expect({ pg: await dumpPostgres(pg), files: dumpFiles(out) }).toEqual(reference);
      } finally {
        await proxy.close();
        await dying.stop();
      }
    });

    test("the Postgres target shuts down mid-run", async () => {
      const dying = await startEmbeddedPostgres();
      const proxy = new TcpProxy(dying.port);
      try {
        const pg = (await dying.createDatabase("synter")).replace(
          `:${dying.port}/`,
          `:${await proxy.start()}/`,
        );
        await createAuthSchema(pg);
        const out = join(work, "postgres-shut-down");
        proxy.cutAfter("toServer", 4_000, () => dying.stop());
        const stopped = await cli(migrateArgs(legacyUrl, pg, out));
        await proxy.whenCut();
        expectFailure(
          stopped,
          "unreachable",
          new RegExp(
            `^error: lost the connection to the Postgres target at 127\\.0\\.0\\.1:${proxy.port} mid-run \\((terminating connection due to administrator command|ECONNRESET|connection closed)\\); ` +
              `what was copied is checkpointed in ${out}; to continue, run: synter-infra data migrate .* --resume$`,
          ),
        );
      } finally {
        await proxy.close();
        await dying.stop();
      }
    });

    test("the connection to the Postgres target is cut mid-run, and the run resumed", async () => {
      const pgDirect = await target("synter_pg_cut");
      const proxy = new TcpProxy(pgServer.port);
      try {
        const pg = pgDirect.replace(`:${pgServer.port}/`, `:${await proxy.start()}/`);
        const out = join(work, "postgres-cut");
        proxy.cutAfter("toServer", 6_000);
        const stopped = await cli(migrateArgs(legacyUrl, pg, out));
        await proxy.whenCut();
        expectFailure(
          stopped,
          "unreachable",
          new RegExp(
            `^error: (lost the connection to the Postgres target at 127\\.0\\.0\\.1:${proxy.port} mid-run \\((ECONNRESET|connection closed)\\)|cannot reach the Postgres target at 127\\.0\\.0\\.1:${proxy.port}: connection refused \\(is it running\\? check the host and port of --postgres\\)); ` +
              `what was copied is checkpointed in ${out}; to continue, run: synter-infra data migrate .* --resume$`,
          ),
        );
        await proxy.reopen();
        const resumed = await resumeAsTold(stopped);
        expect(statusOf(resumed)).toEqual({ status: 0 });
        expect({ pg: await dumpPostgres(pgDirect), files: dumpFiles(out) }).toEqual(reference);
      } finally {
        await proxy.close();
      }
    });
  });

  describe("Ctrl-C", () => {
    test("SIGINT mid-run stops with the --resume command, which finishes the job", async () => {
      const pg = await target("synter_interrupted");
      const out = join(work, "interrupted");
      const stopped = await cli(migrateArgs(legacyUrl, pg, out), {
        env: { SYNTER_DATA_CRASH_AT: "5:checkpointed:SIGINT" },
      });
      expectFailure(
        stopped,
        "interrupted",
        `error: interrupted by SIGINT; what was copied is checkpointed in ${out}; to continue, run: synter-infra data migrate --source ${legacyUrl} --postgres '${masked(pg)}' --out ${out} --page-size ${PAGE_SIZE} --workers 1 --json --resume`,
      );
      const resumed = await resumeAsTold(stopped);
      expect(statusOf(resumed)).toEqual({ status: 0 });
      expect({ pg: await dumpPostgres(pg), files: dumpFiles(out) }).toEqual(reference);
    });
  });

  describe("a full disk", () => {
    testWithTmpfs(
      "load files: stops with the --resume command; with space again, that command finishes the job",
      async () => {
        const pg = await target("synter_full_out");
        const out = join(work, "full-out");
        const state = join(work, "full-out-state");
        // Room for a few load files, not all of them.
        const disk = smallDisk(out, 1024, 24 * 1024);
        unmounts.push(disk.unmount);
        const stopped = await cli(migrateArgs(legacyUrl, pg, out, ["--state-dir", state]));
        expectFailure(
          stopped,
          "interrupted",
          new RegExp(
            `^error: cannot write ${out}/\\w+/[\\w-]+\\.ndjson\\.gz: no space left on device; free some space there \\(or use another --out / --state-dir\\); ` +
              `what was copied is checkpointed in ${state}; to continue, run: synter-infra data migrate .* --state-dir ${state} --resume$`,
          ),
        );
        rmSync(disk.filler);
        const resumed = await resumeAsTold(stopped);
        expect(statusOf(resumed)).toEqual({ status: 0 });
        expect({ pg: await dumpPostgres(pg), files: dumpFiles(out) }).toEqual(reference);
      },
    );

    testWithTmpfs("the state directory: one line before anything is copied", async () => {
      const pg = await target("synter_full_state");
      const out = join(work, "full-state-out");
      const state = join(work, "full-state");
      const disk = smallDisk(state, 64, 0);
      unmounts.push(disk.unmount);
      const run = await cli(migrateArgs(legacyUrl, pg, out, ["--state-dir", state]));
      expectFailure(
        run,
        "interrupted",
        `error: cannot write ${state}/migration.lock: no space left on device; free some space there (or use another --out / --state-dir)`,
      );
      expect(errorLines(run)).toHaveLength(1);
    });

    testWithTmpfs(
      "the state file mid-run: stops with the --resume command; with space again, it finishes",
      async () => {
        const pg = await target("synter_full_state_mid_run");
        const out = join(work, "full-state-mid-run-out");
        const state = join(work, "full-state-mid-run");
        // Room at the start; once the copy is under way the disk fills up (another writer).
        const disk = smallDisk(state, 64, 64 * 1024);
        unmounts.push(disk.unmount);
        let filled = false;
        const stopped = await cli(migrateArgs(legacyUrl, pg, out, ["--state-dir", state]), {
          onStderr: (text) => {
            if (filled || !/rows\/s/.test(text)) return;
            filled = true;
            const stats = statfsSync(state);
            writeFileSync(disk.filler, Buffer.alloc(stats.bavail * stats.bsize));
          },
        });
        expect(filled).toBe(true);
        expectFailure(
          stopped,
          "interrupted",
          new RegExp(
            `^error: cannot write ${state}/(migration-state\\.json|rejects\\.jsonl): no space left on device; free some space there \\(or use another --out / --state-dir\\); ` +
              `what was copied is checkpointed in ${state}; to continue, run: synter-infra data migrate .* --resume$`,
          ),
        );
        rmSync(disk.filler);
        const resumed = await resumeAsTold(stopped);
        expect(statusOf(resumed)).toEqual({ status: 0 });
        expect({ pg: await dumpPostgres(pg), files: dumpFiles(out) }).toEqual(reference);
      },
    );
  });
});
