/**
 * A serialized dynamic provider (`__provider`) is stored in every dynamic resource's state. It
 * must depend only on the code that runs: two checkouts of one commit at different paths plan to
 * the same bytes, so moving a checkout (a CI runner, a laptop) never shows as a change.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../..");

/** The tracked files of the working tree, copied (not the .git folder), with node_modules linked. */
function checkoutAt(parent: string, name: string): string {
  const dir = path.join(parent, name);
  const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], {
    cwd: ROOT,
    encoding: "utf8",
  })
    .split("\n")
    .filter(Boolean);
  for (const file of files) {
    const target = path.join(dir, file);
    mkdirSync(path.dirname(target), { recursive: true });
    try {
      copyFileSync(path.join(ROOT, file), target);
    } catch {
      // listed but deleted in the working tree: not part of this checkout
    }
  }
  symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

function planJson(dir: string, stack: string): string {
  const result = spawnSync(
    process.execPath,
    [path.join(dir, "bin/synter-infra.js"), "plan", "--stack", stack, "--json"],
    { cwd: dir, encoding: "utf8", timeout: 120_000 },
  );
  if (result.status !== 0) throw new Error(`plan in ${dir} failed: ${result.stderr}`);
  return result.stdout;
}

describe("plan --json does not depend on where the checkout lives", () => {
  let parent: string;
  beforeAll(() => {
    parent = mkdtempSync(path.join(tmpdir(), "synter-clones-"));
  });
  afterAll(() => rmSync(parent, { recursive: true, force: true }));

  it("two checkouts of the same tree at different paths give byte-identical plans", () => {
    const first = checkoutAt(parent, "first");
    const second = checkoutAt(parent, path.join("deeper", "second-checkout"));
    const a = planJson(first, "dev");
    const b = planJson(second, "dev");
    expect(b).toBe(a);
    // The plan really holds the serialized providers of both kinds, and no path of either copy.
    expect(a).toContain("./infra/railway/providers");
    expect(a).toContain("./infra/migrations/provider-entry");
    expect(a).not.toContain(first);
    expect(a).not.toContain(ROOT);
  }, 240_000);
});
