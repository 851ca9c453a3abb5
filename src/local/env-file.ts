/**
 * The environment variables of DESIGN §5 for the local platform: printed (passwords masked) and
 * written in full to `.env.local`, which is git-ignored and readable by the owner only.
 */
import { closeSync, fchmodSync, openSync, writeSync } from "node:fs";

export interface LocalVariables {
  readonly POSTGRES_URL: string;
  /** The migrator role's URL: the app role cannot run DDL, so migrations need this one. */
  readonly MIGRATOR_POSTGRES_URL: string;
  /** Unset when Redis is not running locally. */
  readonly REDIS_URL?: string;
  readonly BIGQUERY_PROJECT_ID: string;
  readonly BIGQUERY_DATASET: string;
}

/** BigQuery has no local emulator: the app gets placeholders, the SQL is checked offline. */
export const LOCAL_BIGQUERY = { projectId: "synter-local", dataset: "synter_analytics" } as const;

const NOTES = [
  "Written by `synter-infra local` (npm start). Git-ignored: it holds local passwords.",
  "POSTGRES_URL uses the app role (DML only). Migrations run as the migrator:",
  '  synter-infra migrate up --database-url "$MIGRATOR_POSTGRES_URL"',
  "BigQuery is not emulated: BIGQUERY_* are placeholders; its SQL is checked offline by `synter-infra schema check`.",
  "No GOOGLE_APPLICATION_CREDENTIALS locally: in the cloud it is a path to a key file, never the key itself.",
];

export function renderEnvFile(
  variables: LocalVariables,
  extraNotes: readonly string[] = [],
): string {
  const lines = [...NOTES, ...extraNotes].map((note) => `# ${note}`);
  for (const [name, value] of Object.entries(variables)) {
    if (value !== undefined) lines.push(`${name}=${value}`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Owner-only on every run: `mode` applies only when the file is created, so a file left 0644 (by
 * an earlier version, or a copy) is tightened before the passwords are written into it.
 */
export function writeEnvFile(path: string, content: string): void {
  writeOwnerOnly(path, content);
}

export function writeOwnerOnly(path: string, content: string): void {
  const fd = openSync(path, "w", 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
}

/** `scheme://user:****@host…`: what the console shows. */
export function maskUrlPassword(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/, "$1****@");
}

export function printableVariables(variables: LocalVariables): string[] {
  return Object.entries(variables)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name}=${maskUrlPassword(String(value))}`);
}
