/**
 * schema/ is pure data and pure functions that import nothing of the project outside schema/
 * (DESIGN §2): `diff` loads it alone from another checkout, and infra/, the CLI and the migrations
 * build on it, never the other way round.
 */
import * as fs from "node:fs";
import * as path from "node:path";

const schemaRoot = path.join(__dirname, "..", "..", "schema");

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

test("every relative import of schema/ stays inside schema/", () => {
  const outside: string[] = [];
  for (const file of sourceFiles(schemaRoot)) {
    const text = fs.readFileSync(file, "utf8");
    for (const match of text.matchAll(
      /\bfrom\s+"(\.{1,2}\/[^"]*)"|require\("(\.{1,2}\/[^"]*)"\)/g,
    )) {
      const target = path.resolve(path.dirname(file), match[1] ?? match[2]);
      if (path.relative(schemaRoot, target).startsWith("..")) {
        outside.push(`${path.relative(schemaRoot, file)} imports ${match[1] ?? match[2]}`);
      }
    }
  }
  expect(outside).toEqual([]);
});
