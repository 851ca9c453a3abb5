import { ToolError } from "../src/errors/tool-error";

/**
 * A definition in schema/ that cannot be right: a table without its primary key, a name Postgres
 * would truncate, a view placeholder that names nothing. It is the error model's "config" kind
 * (DESIGN §5), so the CLI prints its one line and exits with the config code instead of a stack:
 * the person who meets it is the one who just edited schema/. The error model's base class is
 * pure (no CLI, no client), which is why schema/ may import it.
 */
export class SchemaError extends ToolError {
  constructor(message: string) {
    super("config", message);
  }
}

/** `invalid table t: a; b; fix its definition in schema/`: every problem, on one line. */
export function invalidTable(name: string, problems: readonly string[]): SchemaError {
  return new SchemaError(
    `invalid table ${name}: ${problems.join("; ")}; fix its definition in schema/`,
  );
}
