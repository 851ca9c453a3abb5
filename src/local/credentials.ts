/**
 * Local passwords: random per data directory, kept in `.local/credentials.json` (mode 600) so
 * the URLs stay the same between runs; `--reset` removes them with the data.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync } from "node:fs";
import { AUTH_ROLE_KINDS, type AuthRoleKind } from "../../schema/roles";
import { writeOwnerOnly } from "./env-file";

export interface LocalCredentials {
  readonly postgres: Readonly<Record<AuthRoleKind, string>>;
  readonly redis: string;
}

/** Hex: safe in URLs and in redis.conf without quoting. */
const newPassword = () => randomBytes(24).toString("hex");

export function loadOrCreateCredentials(path: string): LocalCredentials {
  if (existsSync(path)) {
    // Owner-only on every run, not only when created (a copy or an old checkout may be 0644).
    chmodSync(path, 0o600);
    const stored = JSON.parse(readFileSync(path, "utf8")) as Partial<LocalCredentials>;
    const postgres = stored.postgres;
    if (
      postgres &&
      AUTH_ROLE_KINDS.every((k) => typeof postgres[k] === "string") &&
      typeof stored.redis === "string"
    ) {
      return { postgres, redis: stored.redis };
    }
  }
  const created: LocalCredentials = {
    postgres: { migrator: newPassword(), app: newPassword(), readonly: newPassword() },
    redis: newPassword(),
  };
  writeOwnerOnly(path, `${JSON.stringify(created, null, 2)}\n`);
  return created;
}
