/**
 * Risky statements in new Postgres migrations. Pure: input is each new migration's statements (as
 * node-pg-migrate would send them) in order; output is one finding per risk with its reason.
 *
 * "Existing table" means a table not created by the new migrations themselves: only those can hold
 * rows, so only there do locks, rewrites and scans hurt. The rules follow Postgres' documented lock
 * levels (ALTER TABLE takes ACCESS EXCLUSIVE; CREATE INDEX blocks writes unless CONCURRENTLY; SET
 * NOT NULL scans the table unless a validated `CHECK (col IS NOT NULL)` proves it — Postgres 12+;
 * a FOREIGN KEY validates every row unless added NOT VALID and validated later).
 *
 * The same table drives `migrate generate` (src/migrate/generate): it writes the safe pattern of
 * each rule, runs its own output through `analyseMigrations`, and marks what is left `destructive`
 * in the file and on the terminal — so the generator and this lint cannot disagree.
 */
import { bareIdentifier, splitTopLevelCommas } from "./sql-statements";

export type MigrationRiskId =
  | "drop-table"
  | "drop-column"
  | "truncate"
  | "alter-column-type"
  | "set-not-null-without-check"
  | "index-not-concurrent"
  | "foreign-key-without-not-valid"
  | "concurrently-in-transaction"
  | "no-down"
  | "not-analysable"
  | "add-required-column";

export interface MigrationRiskRule {
  readonly dataLoss: boolean;
  /**
   * Values can be lost or the statement can fail on existing rows, whatever pattern is used:
   * `migrate generate` marks these statements destructive instead of avoiding them.
   */
  readonly destructive: boolean;
  readonly reason: string;
}

export const MIGRATION_RISK_RULES: Readonly<Record<MigrationRiskId, MigrationRiskRule>> = {
  "drop-table": { dataLoss: true, destructive: true, reason: "drops a table and every row in it" },
  "drop-column": { dataLoss: true, destructive: true, reason: "drops a column and its values" },
  truncate: { dataLoss: true, destructive: true, reason: "deletes every row" },
  "alter-column-type": {
    dataLoss: false,
    destructive: true,
    reason:
      "changing a column type rewrites the table under an ACCESS EXCLUSIVE lock and can fail or lose precision on existing values",
  },
  "set-not-null-without-check": {
    dataLoss: false,
    destructive: false,
    reason:
      "SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock; first ADD CONSTRAINT … CHECK (col IS NOT NULL) NOT VALID, then VALIDATE CONSTRAINT, then SET NOT NULL",
  },
  "index-not-concurrent": {
    dataLoss: false,
    destructive: false,
    reason:
      "CREATE INDEX without CONCURRENTLY blocks writes to an existing table while it builds (use CONCURRENTLY and pgm.noTransaction())",
  },
  "foreign-key-without-not-valid": {
    dataLoss: false,
    destructive: false,
    reason:
      "adding a FOREIGN KEY checks every existing row while holding locks on both tables; add it NOT VALID, then VALIDATE CONSTRAINT separately",
  },
  "concurrently-in-transaction": {
    dataLoss: false,
    destructive: false,
    reason:
      "CONCURRENTLY cannot run inside a transaction block; the migration must call pgm.noTransaction()",
  },
  "no-down": {
    dataLoss: false,
    destructive: false,
    reason: "the migration has no down: it cannot be rolled back with `migrate down`",
  },
  "not-analysable": {
    dataLoss: false,
    destructive: false,
    reason: "the migration's SQL could not be rendered offline; review it by hand",
  },
  "add-required-column": {
    dataLoss: false,
    destructive: true,
    reason:
      "adding a NOT NULL column without a DEFAULT fails on a table that has rows; give it a DEFAULT, or add it nullable, backfill, then SET NOT NULL",
  },
};

export interface MigrationInput {
  readonly file: string;
  readonly statements: readonly string[];
  readonly hasDown: boolean;
  readonly usesTransaction: boolean;
  /** Why the SQL could not be rendered, when it could not. */
  readonly renderError: string | null;
}

export interface MigrationRisk {
  readonly file: string;
  readonly rule: MigrationRiskId;
  readonly dataLoss: boolean;
  readonly reason: string;
  readonly table: string | null;
  readonly column: string | null;
  readonly statement: string | null;
}

const IDENT = String.raw`(?:"(?:[^"]|"")*"|[A-Za-z_][\w$]*)(?:\.(?:"(?:[^"]|"")*"|[A-Za-z_][\w$]*))?`;

const CREATE_TABLE = new RegExp(
  String.raw`^CREATE\s+(?:UNLOGGED\s+|TEMP(?:ORARY)?\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(${IDENT})`,
  "i",
);
const DROP_TABLE = new RegExp(
  String.raw`^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(.+?)(?:\s+(?:CASCADE|RESTRICT))?$`,
  "i",
);
const TRUNCATE = new RegExp(
  String.raw`^TRUNCATE\s+(?:TABLE\s+)?(?:ONLY\s+)?(.+?)(?:\s+(?:RESTART|CONTINUE)\s+IDENTITY)?(?:\s+(?:CASCADE|RESTRICT))?$`,
  "i",
);
const ALTER_TABLE = new RegExp(
  String.raw`^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(${IDENT})\s+(.*)$`,
  "i",
);
const CREATE_INDEX = new RegExp(
  String.raw`^CREATE\s+(?:UNIQUE\s+)?INDEX\s+(CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(?:${IDENT}\s+)?ON\s+(?:ONLY\s+)?(${IDENT})`,
  "i",
);
const REINDEX_OR_DROP_INDEX_CONCURRENTLY = /^(?:DROP|REINDEX)\s+INDEX\s+CONCURRENTLY\b/i;

function risk(
  file: string,
  rule: MigrationRiskId,
  details: { table?: string | null; column?: string | null; statement?: string | null } = {},
): MigrationRisk {
  const { dataLoss, reason } = MIGRATION_RISK_RULES[rule];
  return {
    file,
    rule,
    dataLoss,
    reason,
    table: details.table ?? null,
    column: details.column ?? null,
    statement: details.statement ?? null,
  };
}

/** Constraint names known to be `CHECK (col IS NOT NULL)`, per table, and which were validated. */
interface NotNullChecks {
  readonly pending: Map<string, { table: string; column: string }>;
  readonly validated: Set<string>;
}

export function analyseMigrations(migrations: readonly MigrationInput[]): MigrationRisk[] {
  const risks: MigrationRisk[] = [];
  const createdTables = new Set<string>();
  const checks: NotNullChecks = { pending: new Map(), validated: new Set() };
  const isExisting = (table: string): boolean => !createdTables.has(table);

  for (const migration of migrations) {
    const { file } = migration;
    if (!migration.hasDown) risks.push(risk(file, "no-down"));
    if (migration.renderError !== null) {
      risks.push({
        ...risk(file, "not-analysable"),
        reason: `${MIGRATION_RISK_RULES["not-analysable"].reason} (${migration.renderError})`,
      });
      continue;
    }
    for (const statement of migration.statements) {
      const created = CREATE_TABLE.exec(statement);
      if (created) {
        createdTables.add(bareIdentifier(created[1]));
        continue;
      }
      const dropped = DROP_TABLE.exec(statement);
      if (dropped) {
        for (const name of splitTopLevelCommas(dropped[1])) {
          const table = bareIdentifier(name);
          if (isExisting(table)) risks.push(risk(file, "drop-table", { table, statement }));
          createdTables.delete(table);
        }
        continue;
      }
      const truncated = TRUNCATE.exec(statement);
      if (truncated) {
        for (const name of splitTopLevelCommas(truncated[1])) {
          const table = bareIdentifier(name);
          if (isExisting(table)) risks.push(risk(file, "truncate", { table, statement }));
        }
        continue;
      }
      const index = CREATE_INDEX.exec(statement);
      if (index) {
        const table = bareIdentifier(index[2]);
        const concurrent = index[1] !== undefined;
        if (!concurrent && isExisting(table))
          risks.push(risk(file, "index-not-concurrent", { table, statement }));
        if (concurrent && migration.usesTransaction)
          risks.push(risk(file, "concurrently-in-transaction", { table, statement }));
        continue;
      }
      if (REINDEX_OR_DROP_INDEX_CONCURRENTLY.test(statement) && migration.usesTransaction) {
        risks.push(risk(file, "concurrently-in-transaction", { statement }));
        continue;
      }
      const altered = ALTER_TABLE.exec(statement);
      if (altered) {
        const table = bareIdentifier(altered[1]);
        for (const action of splitTopLevelCommas(altered[2])) {
          analyseAlterAction(file, table, action, statement, isExisting(table), checks, risks);
        }
      }
    }
  }
  return risks;
}

function analyseAlterAction(
  file: string,
  table: string,
  action: string,
  statement: string,
  existing: boolean,
  checks: NotNullChecks,
  risks: MigrationRisk[],
): void {
  const dropColumn = new RegExp(
    String.raw`^DROP\s+(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?(${IDENT})`,
    "i",
  ).exec(action);
  if (
    dropColumn &&
    !/^DROP\s+(?:CONSTRAINT|DEFAULT|NOT\s+NULL|IDENTITY|EXPRESSION)\b/i.test(action)
  ) {
    if (existing)
      risks.push(
        risk(file, "drop-column", { table, column: bareIdentifier(dropColumn[1]), statement }),
      );
    return;
  }
  const addColumn = new RegExp(
    String.raw`^ADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(${IDENT})\s+(.*)$`,
    "i",
  ).exec(action);
  if (addColumn && !/^ADD\s+(?:CONSTRAINT|CHECK|FOREIGN|PRIMARY|UNIQUE|EXCLUDE)\b/i.test(action)) {
    const definition = addColumn[2];
    if (
      existing &&
      /\bNOT\s+NULL\b/i.test(definition) &&
      !/\b(?:DEFAULT|GENERATED)\b/i.test(definition)
    ) {
      const column = bareIdentifier(addColumn[1]);
      risks.push(risk(file, "add-required-column", { table, column, statement }));
    }
    return;
  }
  const alterColumn = new RegExp(String.raw`^ALTER\s+(?:COLUMN\s+)?(${IDENT})\s+(.*)$`, "i").exec(
    action,
  );
  if (alterColumn) {
    const column = bareIdentifier(alterColumn[1]);
    const change = alterColumn[2];
    if (/^(?:SET\s+DATA\s+)?TYPE\b/i.test(change)) {
      if (existing) risks.push(risk(file, "alter-column-type", { table, column, statement }));
    } else if (/^SET\s+NOT\s+NULL\b/i.test(change) && existing) {
      const proven = [...checks.pending.entries()].some(
        ([name, target]) =>
          target.table === table && target.column === column && checks.validated.has(name),
      );
      if (!proven)
        risks.push(risk(file, "set-not-null-without-check", { table, column, statement }));
    }
    return;
  }
  const addConstraint = new RegExp(
    String.raw`^ADD\s+(?:CONSTRAINT\s+(${IDENT})\s+)?(.*)$`,
    "i",
  ).exec(action);
  if (addConstraint && /^(?:CHECK|FOREIGN\s+KEY)\b/i.test(addConstraint[2])) {
    const name = addConstraint[1] ? bareIdentifier(addConstraint[1]) : null;
    const body = addConstraint[2];
    const notValid = /\bNOT\s+VALID\s*$/i.test(body);
    if (/^FOREIGN\s+KEY\b/i.test(body)) {
      if (existing && !notValid) {
        const column = /^FOREIGN\s+KEY\s*\(([^)]*)\)/i.exec(body)?.[1];
        risks.push(
          risk(file, "foreign-key-without-not-valid", {
            table,
            column: column ? splitTopLevelCommas(column).map(bareIdentifier).join(", ") : null,
            statement,
          }),
        );
      }
      return;
    }
    const notNullCheck = new RegExp(
      String.raw`^CHECK\s*\(\s*(${IDENT})\s+IS\s+NOT\s+NULL\s*\)`,
      "i",
    ).exec(body);
    if (notNullCheck && name) {
      checks.pending.set(name, { table, column: bareIdentifier(notNullCheck[1]) });
      // A CHECK added without NOT VALID is validated as it is added.
      if (!notValid) checks.validated.add(name);
    }
    return;
  }
  const validate = new RegExp(String.raw`^VALIDATE\s+CONSTRAINT\s+(${IDENT})`, "i").exec(action);
  if (validate) checks.validated.add(bareIdentifier(validate[1]));
}
