/**
 * Nothing imports the CLI (DESIGN §2, §5): the deploy-time migrations provider, loaded by Pulumi's
 * dynamic-provider host, must not load a module of src/cli — checked in a fresh process through
 * `require.cache` — and no module outside src/cli names it in an import.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

const ROOT = join(__dirname, "..", "..");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : sourceFiles(path);
    return /\.(ts|js)$/.test(entry.name) ? [path] : [];
  });
}

describe("nothing imports the CLI", () => {
  it("loading infra/migrations/provider-entry.ts loads no module under src/cli", () => {
    const script = `
      require("tsx/cjs");
      const entry = require(${JSON.stringify(join(ROOT, "infra", "migrations", "provider-entry.ts"))});
      if (typeof entry.createMigrationsProvider !== "function") throw new Error("no provider");
      entry.createMigrationsProvider();
      process.stdout.write(JSON.stringify(Object.keys(require.cache)));
    `;
    const loaded = JSON.parse(
      execFileSync(process.execPath, ["-e", script], { cwd: ROOT, encoding: "utf8" }),
    ) as string[];
    const ours = loaded
      .filter((file) => !file.includes("node_modules"))
      .map((file) => relative(ROOT, file));
    // The runner is loaded (the check is not vacuous), the CLI is not.
    expect(ours).toContain(join("src", "migrate", "runner.ts"));
    expect(ours.filter((file) => file.startsWith(join("src", "cli")))).toEqual([]);
  });

  it("no module outside src/cli imports from it", () => {
    const cli = join(ROOT, "src", "cli");
    const offenders = ["src", "infra", "schema", "migrations"]
      .flatMap((dir) => sourceFiles(join(ROOT, dir)))
      .filter((file) => !file.startsWith(`${cli}/`))
      .filter((file) =>
        [...readFileSync(file, "utf8").matchAll(/(?:from\s+|require\()\s*["']([^"']+)["']/g)]
          .map(([, specifier]) => specifier!)
          .filter((specifier) => specifier.startsWith("."))
          .map((specifier) => join(dirname(file), specifier))
          .some((target) => target === cli || target.startsWith(`${cli}/`)),
      )
      .map((file) => relative(ROOT, file));
    expect(offenders).toEqual([]);
  });
});
