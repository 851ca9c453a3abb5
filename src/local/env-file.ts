/**
 * The environment variables of DESIGN §5 for the local platform: printed (passwords masked) and
 * written in full to `.env.local`, which is git-ignored and readable by the owner only.
 */
import { writeFileSync } from "node:fs";

export interface LocalVariables {
  readonly POSTGRES_URL: string;
  /** Unset when Redis is not running locally. */
  readonly REDIS_URL?: string;
  readonly BIGQUERY_PROJECT_ID: string;
  readonly BIGQUERY_DATASET: string;
}

/** BigQuery has no local emulator: the app gets placeholders, the SQL is checked offline. */
export const LOCAL_BIGQUERY = { projectId: "synter-local", dataset: "synter_analytics" } as const;

const NOTES = [
  "Written by `synter-infra local` (npm start). Git-ignored: it holds local passwords.",
  "POSTGRES_URL uses the app role (DML only); migrations run as the migrator.",
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

export function writeEnvFile(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
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
