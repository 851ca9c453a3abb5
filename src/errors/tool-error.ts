/**
 * The one error model of the tool (DESIGN §5). A failure a user can cause or meet is a
 * `ToolError` with a kind; its message is one line that names what failed and what to do next.
 * Each area defines its own subclasses beside the code that raises them (a `MigrationHistoryError`
 * in src/migrate, a `SourceUnreachableError` in the data migration…) and chooses their kind; only
 * the CLI turns a kind into an exit code (src/cli/exit-codes.ts, the table the README prints).
 * Nothing here knows about the CLI, so library code and the deploy-time providers can use it.
 */

import { SchemaError } from "../../schema/errors";

export const ERROR_KINDS = [
  /** Bad arguments or options: the command line itself is wrong. */
  "usage",
  /** A config or input file is wrong (stack YAML, schema, a migration file). */
  "config",
  /** A server or service did not answer: refused, unknown host, timed out, died mid-run. */
  "unreachable",
  /** A server answered but refused the credentials or the permission. */
  "auth",
  /** A live system differs from what schema/ (or a generated file) says. */
  "drift",
  /** Data differs between two places that must agree (source vs. target, history vs. files). */
  "mismatch",
  /** The tool refused to do something dangerous without an explicit go-ahead. */
  "refused",
  /** Stopped by a signal (Ctrl-C) or a deadline; the work can be resumed. */
  "interrupted",
  /** A bug: never the user's fault; printed with its stack. */
  "internal",
] as const;

export type ErrorKind = (typeof ERROR_KINDS)[number];

export class ToolError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A ToolError, or schema/'s own error of a definition, which is one of kind "config". */
export function isToolError(error: unknown): error is ToolError | SchemaError {
  return error instanceof ToolError || error instanceof SchemaError;
}
