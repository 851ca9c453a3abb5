/**
 * Executes a teardown plan step by step through an executor (real processes in the CLI, a
 * recording or failing one in tests). Stops at the first failing step and reports what was saved
 * before it: nothing after a failed snapshot runs, least of all the destroy.
 */
import { spawn } from "node:child_process";
import { ToolError } from "../errors/tool-error";
import type { TeardownStep } from "./teardown-plan";

export interface CommandResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface TeardownExecutor {
  /** Runs argv (no shell) with extra environment variables. */
  run(argv: readonly string[], env: Readonly<Record<string, string>>): Promise<CommandResult>;
}

export interface TeardownOutcome {
  readonly completed: readonly TeardownStep[];
  readonly failed: {
    readonly step: TeardownStep;
    readonly message: string;
    /** The step lacked an input (no database URL, a URL that is not postgres://). */
    readonly missingInput?: boolean;
  } | null;
  /** What was saved, and where. */
  readonly saved: readonly string[];
}

/**
 * A step failed, so the teardown stopped before the destroy. A missing tool or database URL is the
 * set-up's fault (`config`); a failing command talked to the cloud or the database and failed
 * there (`unreachable`: the message carries its last lines of stderr).
 */
export class TeardownStepError extends ToolError {
  constructor(
    readonly failed: NonNullable<TeardownOutcome["failed"]>,
    readonly saved: readonly string[],
  ) {
    super(
      failed.step.kind === "require-tool" || failed.missingInput ? "config" : "unreachable",
      `teardown stopped at "${failed.step.description}": ${failed.message}\nThe stack was NOT destroyed.`,
    );
  }
}

/** A postgres:// URL as libpq environment variables, so the password never sits in argv. */
export function libpqEnvironment(url: string): Record<string, string> {
  const parsed = new URL(url);
  if (!/^postgres(ql)?:$/.test(parsed.protocol))
    throw new Error("the database URL is not a postgres:// URL");
  const env: Record<string, string> = {
    PGHOST: decodeURIComponent(parsed.hostname),
    PGPORT: parsed.port || "5432",
    PGDATABASE: decodeURIComponent(parsed.pathname.replace(/^\//, "")),
  };
  if (parsed.username) env.PGUSER = decodeURIComponent(parsed.username);
  if (parsed.password) env.PGPASSWORD = decodeURIComponent(parsed.password);
  const sslmode = parsed.searchParams.get("sslmode");
  if (sslmode) env.PGSSLMODE = sslmode;
  const sslrootcert = parsed.searchParams.get("sslrootcert");
  if (sslrootcert) env.PGSSLROOTCERT = sslrootcert;
  return env;
}

const MISSING_TOOL_HINTS: Readonly<Record<string, string>> = {
  pulumi:
    "the Pulumi CLI is not installed: https://www.pulumi.com/docs/install/ (curl -fsSL https://get.pulumi.com | sh)",
  bq: "the bq CLI is not installed: it ships with the Google Cloud SDK (https://cloud.google.com/sdk/docs/install)",
  gcloud: "gcloud is not installed: https://cloud.google.com/sdk/docs/install",
  pg_dump:
    "pg_dump is not installed: apt-get install postgresql-client-15 (its major version must be ≥ the server's)",
};

export async function runTeardown(
  steps: readonly TeardownStep[],
  executor: TeardownExecutor,
  options: { readonly databaseUrl?: string; readonly progress?: (line: string) => void },
): Promise<TeardownOutcome> {
  const completed: TeardownStep[] = [];
  const saved: string[] = [];
  let outputs: Record<string, unknown> = {};
  const progress = options.progress ?? (() => undefined);
  for (const step of steps) {
    progress(`→ ${step.description}`);
    let env: Record<string, string> = {};
    if (step.kind === "dump-postgres") {
      const fromOutput = step.databaseUrlOutput ? outputs[step.databaseUrlOutput] : undefined;
      const url = options.databaseUrl ?? (typeof fromOutput === "string" ? fromOutput : undefined);
      if (!url) {
        return {
          completed,
          saved,
          failed: {
            step,
            missingInput: true,
            message: `no database URL: the stack has no output ${step.databaseUrlOutput ?? ""}; pass --database-url, or --skip-postgres if the stack has no database`,
          },
        };
      }
      try {
        env = libpqEnvironment(url);
      } catch (error) {
        return {
          completed,
          saved,
          failed: {
            step,
            missingInput: true,
            message: error instanceof Error ? error.message : String(error),
          },
        };
      }
    }
    let result: CommandResult;
    try {
      result = await executor.run(step.argv, env);
    } catch (error) {
      const code = (error as { code?: string }).code;
      const message =
        code === "ENOENT"
          ? (MISSING_TOOL_HINTS[step.argv[0]] ?? `${step.argv[0]} is not installed`)
          : String(error);
      return { completed, saved, failed: { step, message } };
    }
    if (result.exitCode !== 0) {
      const message =
        step.kind === "require-tool" && result.exitCode === 127
          ? (MISSING_TOOL_HINTS[step.argv[0]] ?? `${step.argv[0]} is not installed`)
          : `exit ${result.exitCode}: ${result.stderr.trim().split("\n").slice(-5).join("\n")}`;
      return { completed, saved, failed: { step, message } };
    }
    if (step.kind === "read-outputs") {
      try {
        outputs = JSON.parse(result.stdout) as Record<string, unknown>;
      } catch {
        return {
          completed,
          saved,
          failed: { step, message: "pulumi stack output did not print JSON" },
        };
      }
    }
    completed.push(step);
    if (step.saves) saved.push(step.saves);
  }
  return { completed, saved, failed: null };
}

/** Runs real processes; a missing binary surfaces as ENOENT, which the runner explains. */
export const processExecutor: TeardownExecutor = {
  run: (argv, env) =>
    new Promise((resolve, reject) => {
      const child = spawn(argv[0], argv.slice(1), {
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        process.stderr.write(chunk);
      });
      child.on("error", reject);
      child.on("close", (code) => resolve({ exitCode: code ?? 1, stdout, stderr }));
    }),
};
