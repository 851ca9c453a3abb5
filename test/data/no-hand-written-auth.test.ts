/**
 * Google credentials are the client libraries' business (google-auth-library, through
 * @google-cloud/bigquery and @google-cloud/storage): nothing of ours signs a JWT, calls a token
 * endpoint or asks the metadata server. This fails when such code comes back into src/.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

const ROOT = join(__dirname, "..", "..");
const FORBIDDEN = [
  "createSign",
  "jwt-bearer",
  "oauth2.googleapis.com/token",
  "metadata.google.internal",
  "computeMetadata/v1",
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|js|cjs|mjs)$/.test(entry.name) ? [path] : [];
  });
}

test("no hand-written Google auth in src/: no JWT signing, token endpoint or metadata server", () => {
  const files = sourceFiles(join(ROOT, "src"));
  expect(files.length).toBeGreaterThan(50);
  const hits = files.flatMap((file) => {
    const text = readFileSync(file, "utf8");
    return FORBIDDEN.filter((needle) => text.includes(needle)).map(
      (needle) => `${relative(ROOT, file)}: ${needle}`,
    );
  });
  expect(hits).toEqual([]);
});

test("the BigQuery and Cloud Storage clients are dependencies, pinned to majors that run on Node 20", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
  };
  expect(pkg.dependencies["@google-cloud/bigquery"]).toMatch(/^\^8\./);
  expect(pkg.dependencies["@google-cloud/storage"]).toMatch(/^\^7\./);
});
