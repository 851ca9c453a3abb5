/**
 * The functions the auth schema declares, with their bodies: `migrate verify` compares the live
 * function's language, result and body (whitespace aside) with these, so a function replaced by
 * hand is drift like a changed column. A migration that changes a body changes it here too.
 */
import { TOUCH_UPDATED_AT_FUNCTION } from "./dsl/postgres";

export interface PgFunction {
  readonly name: string;
  /** As `pg_get_function_result` prints it. */
  readonly returns: string;
  readonly language: string;
  /** The body between the dollar quotes, as the migration writes it. */
  readonly body: string;
}

/**
 * Keeps updated_at current like the legacy `ON UPDATE CURRENT_TIMESTAMP(6)`: only when the row
 * really changes (MySQL leaves the column alone on an update that changes nothing). Created by
 * migrations/1795600000000_auth-legacy-tables.sql.
 */
export const touchUpdatedAt: PgFunction = {
  name: TOUCH_UPDATED_AT_FUNCTION,
  returns: "trigger",
  language: "plpgsql",
  body: `
BEGIN
  IF NEW IS DISTINCT FROM OLD THEN
    NEW.updated_at := now();
  END IF;
  RETURN NEW;
END;
`,
};
