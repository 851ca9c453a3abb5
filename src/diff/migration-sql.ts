/**
 * The SQL a node-pg-migrate migration would send, obtained the way node-pg-migrate's own
 * `--dry-run` does: call the migration's `up` with a real `MigrationBuilder` and read `getSql()`.
 * This covers builder calls (`pgm.createIndex`, `pgm.alterColumn`, `pgm.addConstraint`…) exactly as
 * the library renders them, which no static reading of the source could; plain `pgm.sql(…)` text
 * comes through verbatim. A migration that queries the database while building (`pgm.db.query`)
 * cannot be rendered offline and is reported as such rather than guessed at.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { getActions, MigrationBuilder } from "../migrate/node-pg-migrate-internals";
import type { MigrationInput } from "./migration-risks";
import { splitSqlStatements } from "./sql-statements";

/** node-pg-migrate's default: every file in the directory except dotfiles. */
export const MIGRATION_FILE = /^[^.].*\.(?:js|cjs|mjs|ts|sql)$/;

type MigrationAction =
  ((pgm: MigrationBuilder, run?: () => void) => Promise<void> | void) | false | undefined;

interface MigrationModule {
  up?: MigrationAction;
  down?: MigrationAction;
  shorthands?: Record<string, unknown>;
}

const offlineDb = {
  query: (): never => {
    throw new Error("the migration queries the database while building its SQL");
  },
  select: (): never => {
    throw new Error("the migration queries the database while building its SQL");
  },
};

const silentLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

async function loadModule(file: string): Promise<MigrationModule> {
  if (file.endsWith(".sql")) return getActions(fs.readFileSync(file, "utf8")) as MigrationModule;
  if (file.endsWith(".mjs")) {
    // A real dynamic import: TypeScript's CommonJS output would turn `import()` into `require()`.
    const importEsm = new Function("specifier", "return import(specifier)") as (
      s: string,
    ) => Promise<MigrationModule>;
    return importEsm(`file://${file}`);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require(file) as MigrationModule & { default?: MigrationModule };
  return loaded.up === undefined && loaded.default ? loaded.default : loaded;
}

export async function renderMigration(file: string): Promise<MigrationInput> {
  const name = path.basename(file);
  let hasDown = false;
  try {
    const mod = await loadModule(path.resolve(file));
    hasDown = typeof mod.down === "function";
    if (typeof mod.up !== "function") {
      return {
        file: name,
        statements: [],
        hasDown,
        usesTransaction: true,
        renderError: "it exports no up function",
      };
    }
    const pgm = new MigrationBuilder(
      offlineDb as never,
      (mod.shorthands ?? {}) as never,
      false,
      silentLogger as never,
    );
    // Callback-style migrations (`up(pgm, run)`) signal completion through `run`.
    await new Promise<void>((resolve, reject) => {
      const up = mod.up as (pgm: MigrationBuilder, run: () => void) => unknown;
      const result = up(pgm, resolve);
      if (up.length < 2) Promise.resolve(result).then(() => resolve(), reject);
    });
    const statements = pgm.getSqlSteps().flatMap((step) => splitSqlStatements(step));
    return {
      file: name,
      statements,
      hasDown,
      usesTransaction: pgm.isUsingTransaction(),
      renderError: null,
    };
  } catch (error) {
    return {
      file: name,
      statements: [],
      hasDown,
      usesTransaction: true,
      renderError: error instanceof Error ? error.message : String(error),
    };
  }
}
