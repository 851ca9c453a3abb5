/**
 * The one table from an error's kind to the process's exit code (DESIGN §5). Library code never
 * chooses an exit code: it throws a `ToolError` of some kind, and the CLI looks the kind up here.
 * The README prints this table; test/cli/exit-codes.test.ts fails when the two differ.
 *
 * A check that finds problems exits with the kind of what it found (a stale generated file, a
 * live schema that differs or migrations that lag behind schema/ are `drift`, a data verification
 * that differs is `mismatch`), so 1 is not used: a 1 comes from Node itself (a crash before this
 * table is reached).
 */
import { ERROR_KINDS, type ErrorKind } from "../errors/tool-error";

export const EXIT_OK = 0;

/** Kind → exit code; distinct codes, none of them 1. */
export const EXIT_CODES: Readonly<Record<ErrorKind, number>> = {
  usage: 2,
  config: 3,
  unreachable: 4,
  auth: 5,
  drift: 6,
  mismatch: 7,
  refused: 8,
  // sysexits' EX_SOFTWARE: what a crash of the tool itself has always exited with.
  internal: 70,
  // 128 + SIGINT, what a shell reports for a program stopped by Ctrl-C.
  interrupted: 130,
};

/** What each code means, as the README's table says it. */
export const EXIT_CODE_MEANINGS: Readonly<Record<ErrorKind, string>> = {
  usage:
    "the command line is wrong: unknown option, missing argument, invalid value, a `--file` or `--stack` that does not exist",
  config:
    "a config or input file is wrong: stack YAML, SQL that does not analyze, a migration that fails, a database the URL names that does not exist",
  unreachable: "a server or service did not answer: refused, unknown host, timed out, died mid-run",
  auth: "a server refused the credentials, a privilege or the certificate check",
  drift:
    "the live system, a generated file or the migrations differ from `schema/` (`migrate verify`, `schema generate --check`, `migrate generate --check`)",
  mismatch:
    "two places that must agree differ: applied migrations vs. their files, `data verify` source vs. target, a rehearsed deploy vs. what it must give",
  refused:
    "refused to do something dangerous without its go-ahead (`--yes`, `--confirm <stack>`, `--allow-data-loss`)",
  internal: "a bug in synter-infra: the stack trace is printed; please report it",
  interrupted:
    "stopped by Ctrl-C (SIGINT), SIGTERM or a deadline (lock or statement timeout); run it again or resume",
};

export function exitCodeOf(kind: ErrorKind): number {
  return EXIT_CODES[kind];
}

export interface ExitCodeRow {
  readonly code: number;
  readonly kind: string;
  readonly meaning: string;
}

/** The table's rows in code order, with 0 first. */
export function exitCodeRows(): ExitCodeRow[] {
  return [
    { code: EXIT_OK, kind: "—", meaning: "success" },
    ...ERROR_KINDS.map((kind) => ({
      code: EXIT_CODES[kind],
      kind,
      meaning: EXIT_CODE_MEANINGS[kind],
    })).sort((a, b) => a.code - b.code),
  ];
}

/** The table as the README prints it (markdown). */
export function renderExitCodeTable(): string {
  const lines = ["| exit code | kind | meaning |", "| --- | --- | --- |"];
  for (const row of exitCodeRows()) {
    lines.push(`| ${row.code} | ${row.kind === "—" ? "—" : `\`${row.kind}\``} | ${row.meaning} |`);
  }
  return `${lines.join("\n")}\n`;
}
