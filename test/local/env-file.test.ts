/** `.env.local` and `.local/credentials.json`: their exact text, and owner-only on every write. */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateCredentials } from "../../src/local/credentials";
import { printableVariables, renderEnvFile, writeEnvFile } from "../../src/local/env-file";

const variables = {
  POSTGRES_URL: "postgresql://synter_app:app-pw@127.0.0.1:5432/synter?sslmode=disable",
  MIGRATOR_POSTGRES_URL:
    "postgresql://synter_migrator:mig-pw@127.0.0.1:5432/synter?sslmode=disable",
  REDIS_URL: "redis://default:redis-pw@127.0.0.1:6379",
  BIGQUERY_PROJECT_ID: "synter-local",
  BIGQUERY_DATASET: "synter_analytics",
};

describe("the local environment file", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "synter-env-file-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const mode = (path: string) => statSync(path).mode & 0o777;

  it("names the migrator's URL and says what it is for", () => {
    const text = renderEnvFile(variables);
    expect(text.split("\n").filter((l) => !l.startsWith("#"))).toEqual([
      `POSTGRES_URL=${variables.POSTGRES_URL}`,
      `MIGRATOR_POSTGRES_URL=${variables.MIGRATOR_POSTGRES_URL}`,
      `REDIS_URL=${variables.REDIS_URL}`,
      "BIGQUERY_PROJECT_ID=synter-local",
      "BIGQUERY_DATASET=synter_analytics",
      "",
    ]);
    expect(text).toContain(
      '# POSTGRES_URL uses the app role (DML only). Migrations run as the migrator:\n#   synter-infra migrate up --database-url "$MIGRATOR_POSTGRES_URL"\n',
    );
  });

  it("masks every password when printed, the Redis one after its user", () => {
    expect(printableVariables(variables)).toEqual([
      "POSTGRES_URL=postgresql://synter_app:****@127.0.0.1:5432/synter?sslmode=disable",
      "MIGRATOR_POSTGRES_URL=postgresql://synter_migrator:****@127.0.0.1:5432/synter?sslmode=disable",
      "REDIS_URL=redis://default:****@127.0.0.1:6379",
      "BIGQUERY_PROJECT_ID=synter-local",
      "BIGQUERY_DATASET=synter_analytics",
    ]);
  });

  it("writes .env.local owner-only, tightening a file that already exists with a looser mode", () => {
    const path = join(dir, ".env.local");
    writeEnvFile(path, "A=1\n");
    expect(mode(path)).toBe(0o600);
    chmodSync(path, 0o644);
    writeEnvFile(path, "A=2\n");
    expect([mode(path), readFileSync(path, "utf8")]).toEqual([0o600, "A=2\n"]);
  });

  it("keeps stored credentials and makes their file owner-only on every load", () => {
    const path = join(dir, "credentials.json");
    const created = loadOrCreateCredentials(path);
    expect(mode(path)).toBe(0o600);
    expect(Object.keys(created.postgres).sort()).toEqual(["app", "migrator", "readonly"]);
    chmodSync(path, 0o644);
    expect(loadOrCreateCredentials(path)).toEqual(created);
    expect(mode(path)).toBe(0o600);
  });

  it("replaces unreadable credentials with new ones, owner-only", () => {
    const path = join(dir, "credentials.json");
    writeFileSync(path, '{"postgres": {}}', { mode: 0o644 });
    const created = loadOrCreateCredentials(path);
    expect(created.redis).toMatch(/^[0-9a-f]{48}$/);
    expect(mode(path)).toBe(0o600);
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual(created);
  });
});
