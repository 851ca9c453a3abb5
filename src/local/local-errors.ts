/**
 * The local environment's failures: its set-up on this machine is wrong (`config`: a package not
 * installed, a data directory of another Postgres version, no `postgres` user, a port some other
 * program holds), a server did not start (`unreachable`), the local database differs from schema/
 * (`drift`), a start or `--reset` that would pull the data from under a running server (`refused`),
 * or Ctrl-C / SIGTERM / SIGHUP during the set-up (`interrupted`).
 */
import { ToolError } from "../errors/tool-error";

export class LocalSetupError extends ToolError {
  constructor(message: string) {
    super("config", message);
  }
}

export class LocalServerStartError extends ToolError {
  constructor(message: string) {
    super("unreachable", message);
  }
}

export class LocalSchemaDriftError extends ToolError {
  constructor(message: string) {
    super("drift", message);
  }
}

export class LocalServersRunningError extends ToolError {
  constructor(message: string) {
    super("refused", message);
  }
}

export class LocalSetupInterruptedError extends ToolError {
  constructor(message: string) {
    super("interrupted", message);
  }
}
