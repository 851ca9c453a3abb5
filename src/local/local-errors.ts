/**
 * The local environment's failures: its set-up on this machine is wrong (`config`: a package not
 * installed, a data directory of another Postgres version, no `postgres` user), a server did not
 * start (`unreachable`), or the local database differs from schema/ (`drift`).
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
