/** Output piped into a reader that stops early (`| head`) ends quietly, not with an EPIPE trace. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../..");

it("schema export | head -1 exits 0 with no stack trace", () => {
  const out = mkdtempSync(path.join(tmpdir(), "synter-pipe-"));
  try {
    const first = spawnSync(
      "bash",
      [
        "-c",
        `node bin/synter-infra.js schema export --out "${out}" | head -1 >/dev/null; echo "\${PIPESTATUS[0]}"`,
      ],
      { cwd: ROOT, encoding: "utf8" },
    );
    expect(first.stdout.trim()).toBe("0");
    expect(first.stderr).toBe("");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
