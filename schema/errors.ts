/**
 * A definition in schema/ that cannot be right (a table without its primary key, a name Postgres
 * would truncate, a view placeholder that names nothing) or a name its rules refuse (a PR number, an
 * auth database's name). The person who meets it has just edited schema/ or a stack's config, so
 * the CLI prints its one line and exits with the config code instead of a stack: the error model (src/errors/tool-error.ts) takes it as a ToolError of kind "config". It
 * is not a subclass of ToolError because schema/ imports nothing outside itself (`diff` loads it
 * alone from another checkout; DESIGN §2).
 */
export class SchemaError extends Error {
  readonly kind = "config";

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** `invalid table t: a; b; fix its definition in schema/`: every problem, on one line. */
export function invalidTable(name: string, problems: readonly string[]): SchemaError {
  return new SchemaError(
    `invalid table ${name}: ${problems.join("; ")}; fix its definition in schema/`,
  );
}
