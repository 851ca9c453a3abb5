/**
 * Suites that need a Debian server (MariaDB, Redis, pgloader) skip with a one-line reason where
 * the binary is missing, so `npm test` passes on any machine; CI sets SYNTER_REQUIRE_SERVERS=1,
 * which turns such a skip into a failure, so CI always runs everything.
 */
import { execFileSync } from "node:child_process";

export const REQUIRE_SERVERS_VARIABLE = "SYNTER_REQUIRE_SERVERS";

export function findBinary(name: string): string | undefined {
  for (const candidate of [name, `/usr/sbin/${name}`, `/usr/bin/${name}`]) {
    try {
      return (
        execFileSync("sh", ["-c", `command -v ${candidate}`], { encoding: "utf8" }).trim() ||
        undefined
      );
    } catch {
      // not there: try the next place
    }
  }
  return undefined;
}

/**
 * `describe` when every binary is present, otherwise `describe.skip` after printing why — or a
 * thrown error when SYNTER_REQUIRE_SERVERS=1 (CI).
 */
export function describeWithBinaries(binaries: readonly string[]): jest.Describe {
  const missing = binaries.filter((b) => findBinary(b) === undefined);
  if (missing.length === 0) return describe;
  const reason = `needs ${missing.join(", ")} (apt-get install ${missing.map(debianPackageOf).join(" ")})`;
  if (process.env[REQUIRE_SERVERS_VARIABLE] === "1") {
    throw new Error(`${REQUIRE_SERVERS_VARIABLE}=1 but a suite cannot run: ${reason}`);
  }
  process.stderr.write(`skipped: ${reason}\n`);
  return describe.skip;
}

function debianPackageOf(binary: string): string {
  switch (binary) {
    case "mariadbd":
    case "mysqld":
      return "mariadb-server";
    case "redis-server":
      return "redis-server";
    default:
      return binary;
  }
}
