/**
 * Errors a user can fix (bad input, unreachable database, drift…). The CLI prints their message
 * alone, without a stack trace, and exits with `exitCode`; anything else is a bug and keeps its
 * stack.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "UserError";
  }
}
