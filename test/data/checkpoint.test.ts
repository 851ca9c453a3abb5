import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  LOCK_FILE,
  lockStateDir,
  removeTempFiles,
  StateLockedError,
} from "../../src/data/checkpoint";

describe("state directory lock and temp-file clean-up", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "synter-checkpoint-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test("a second lock on the same directory is refused while the first is held", () => {
    const release = lockStateDir(dir);
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
    // Another live process holds it: written by hand, as a concurrent run would have.
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 10000)"]);
    try {
      release();
      writeFileSync(join(dir, LOCK_FILE), `${child.pid}\n`);
      expect(() => lockStateDir(dir)).toThrow(StateLockedError);
      expect(() => lockStateDir(dir)).toThrow(
        `another migration (pid ${child.pid}) is using ${dir}; wait for it or stop it first`,
      );
    } finally {
      child.kill("SIGKILL");
    }
  });

  test("a lock left by a dead process is taken over, and released on request", async () => {
    const child = spawn(process.execPath, ["-e", ""]);
    const pid = child.pid!;
    await new Promise((resolve) => child.on("exit", resolve));
    writeFileSync(join(dir, LOCK_FILE), `${pid}\n`);
    const release = lockStateDir(dir);
    release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  test("only files with a temp suffix are removed", () => {
    for (const name of [
      "a.ndjson.gz",
      "a.ndjson.gz.tmp-123",
      "state.json.tmp-9",
      "x.tmp-",
      "x.tmp-abc",
    ])
      writeFileSync(join(dir, name), "");
    expect(removeTempFiles(dir)).toBe(2);
    expect(readdirSync(dir).sort()).toEqual(["a.ndjson.gz", "x.tmp-", "x.tmp-abc"]);
    expect(removeTempFiles(join(dir, "missing"))).toBe(0);
  });
});
