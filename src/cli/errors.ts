/**
 * The CLI's own errors: what only the command line can get wrong (a bad flag value, a go-ahead not
 * given). Library code defines its errors beside itself (src/errors/tool-error.ts); the CLI turns
 * every kind into an exit code through exit-codes.ts.
 */
import { ToolError, type ErrorKind } from "../errors/tool-error";

/** A flag or argument the command line got wrong, found after commander parsed it. */
export class UsageError extends ToolError {
  constructor(message: string) {
    super("usage", message);
  }
}

/** A dangerous command run without its go-ahead (`--yes`) and without a terminal to ask on. */
export class ConfirmationRefusedError extends ToolError {
  constructor(message: string) {
    super("refused", message);
  }
}

/** The kinds the exit codes of the old model stood for (only UserError still carries one). */
const KIND_OF_LEGACY_EXIT_CODE: Readonly<Record<number, ErrorKind>> = {
  2: "usage",
  3: "refused",
  4: "mismatch",
  5: "drift",
  69: "unreachable",
  70: "internal",
  130: "interrupted",
};

/**
 * @deprecated Transition only: the error of the old model, which chose its exit code. It is a
 * `ToolError` whose kind is derived from that code (1, "a user error", becomes `config`), so code
 * that still throws it exits by the table. Throw an error of your own area instead.
 */
export class UserError extends ToolError {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(KIND_OF_LEGACY_EXIT_CODE[exitCode] ?? "config", message);
  }
}
