/**
 * Server certificates as the two hosted Postgres flavours serve them, made with `openssl` in a temp
 * dir for the TLS suite:
 *
 * - `selfSigned`: Railway's SSL image (`/CN=localhost`, no CA, a new certificate per volume);
 * - `privateCa`: Cloud SQL (a leaf signed by the instance's own CA, `CN=<project>:<instance>`, no
 *   subject alternative name, reached by IP address).
 *
 * Postgres refuses a key file that others can read, or that another user owns: keys are 0600 and,
 * as root (where the server runs as `postgres`), owned by `postgres` like the directory.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";

export interface ServerCertificate {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface TlsFixtures {
  readonly dir: string;
  readonly selfSigned: ServerCertificate;
  readonly privateCa: ServerCertificate & { readonly caFile: string; readonly commonName: string };
  remove(): void;
}

function postgresOwner(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  const id = (flag: string) =>
    Number.parseInt(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim(), 10);
  return { uid: id("-u"), gid: id("-g") };
}

function openssl(args: string[], cwd: string): void {
  const result = spawnSync("openssl", args, { cwd, encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`openssl ${args[0]} failed: ${result.stderr || result.error?.message}`);
  }
}

export const CLOUD_SQL_COMMON_NAME = "synter-dev:synter-pg";

export function createTlsFixtures(): TlsFixtures {
  const dir = mkdtempSync(join(tmpdir(), "synter-tls-"));
  const days = ["-days", "30"];
  const rsa = ["-newkey", "rsa:2048", "-nodes"];

  // Railway: `openssl req -new -x509 -nodes -subj /CN=localhost` in the image's entrypoint.
  openssl(
    [
      "req",
      "-x509",
      ...rsa,
      ...days,
      "-subj",
      "/CN=localhost",
      "-keyout",
      "self.key",
      "-out",
      "self.crt",
    ],
    dir,
  );

  // Cloud SQL: a private CA, and a leaf with a CN that is no host name and no SAN.
  openssl(
    [
      "req",
      "-x509",
      ...rsa,
      ...days,
      "-subj",
      "/CN=Synter Test Server CA",
      "-keyout",
      "ca.key",
      "-out",
      "ca.crt",
    ],
    dir,
  );
  openssl(
    [
      "req",
      "-new",
      ...rsa,
      "-subj",
      `/CN=${CLOUD_SQL_COMMON_NAME}`,
      "-keyout",
      "leaf.key",
      "-out",
      "leaf.csr",
    ],
    dir,
  );
  writeFileSync(
    join(dir, "leaf.ext"),
    "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
  );
  openssl(
    [
      "x509",
      "-req",
      "-in",
      "leaf.csr",
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      ...days,
      "-extfile",
      "leaf.ext",
      "-out",
      "leaf.crt",
    ],
    dir,
  );

  const owner = postgresOwner();
  for (const file of ["self.key", "leaf.key", "ca.key"]) chmodSync(join(dir, file), 0o600);
  if (owner) {
    chownSync(dir, owner.uid, owner.gid);
    for (const file of ["self.key", "self.crt", "leaf.key", "leaf.crt"]) {
      chownSync(join(dir, file), owner.uid, owner.gid);
    }
  }
  return {
    dir,
    selfSigned: { certFile: join(dir, "self.crt"), keyFile: join(dir, "self.key") },
    privateCa: {
      certFile: join(dir, "leaf.crt"),
      keyFile: join(dir, "leaf.key"),
      caFile: join(dir, "ca.crt"),
      commonName: CLOUD_SQL_COMMON_NAME,
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
