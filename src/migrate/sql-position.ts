/**
 * Pointing at the statement Postgres rejected. A SQL migration runs as one multi-statement query,
 * and Postgres reports the error position as a character offset into that whole text; this finds
 * the statement around it (honouring quotes, dollar quotes and comments) and its line in the file.
 */

export interface StatementSpan {
  /** Offsets into the text, `end` exclusive (after the `;` when there is one). */
  readonly start: number;
  readonly end: number;
}

/** Splits SQL text at top-level semicolons. */
export function statementSpans(sql: string): StatementSpan[] {
  const spans: StatementSpan[] = [];
  let start = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === "-" && next === "-") {
      const eol = sql.indexOf("\n", i);
      i = eol < 0 ? sql.length : eol + 1;
    } else if (c === "/" && next === "*") {
      const close = sql.indexOf("*/", i + 2);
      i = close < 0 ? sql.length : close + 2;
    } else if (c === "'" || c === '"') {
      // A doubled quote inside is an escaped quote: skipping pairs handles it.
      let j = i + 1;
      while (j < sql.length && sql[j] !== c) j++;
      i = j + 1;
    } else if (c === "$") {
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i));
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        i = close < 0 ? sql.length : close + tag[0].length;
      } else {
        i++;
      }
    } else if (c === ";") {
      spans.push({ start, end: i + 1 });
      start = i + 1;
      i++;
    } else {
      i++;
    }
  }
  if (sql.slice(start).trim() !== "") spans.push({ start, end: sql.length });
  return spans;
}

/** Strips leading blank lines and comments so a statement starts at its first keyword. */
function trimLeadingComments(sql: string, span: StatementSpan): StatementSpan {
  let start = span.start;
  for (;;) {
    const rest = sql.slice(start, span.end);
    const m = /^(\s+|--[^\n]*(\n|$)|\/\*[\s\S]*?\*\/)/.exec(rest);
    if (!m || m[0].length === 0) break;
    start += m[0].length;
  }
  return { start, end: span.end };
}

export interface LocatedStatement {
  /** The statement's text, trimmed. */
  readonly statement: string;
  /** 1-based line and column of the error position in the whole text. */
  readonly line: number;
  readonly column: number;
}

/** `position` is Postgres' 1-based character offset into `sql`. */
export function locateStatement(sql: string, position: number): LocatedStatement | undefined {
  const offset = position - 1;
  if (!Number.isInteger(offset) || offset < 0 || offset > sql.length) return undefined;
  const span = statementSpans(sql).find((s) => offset >= s.start && offset < s.end);
  if (!span) return undefined;
  const trimmed = trimLeadingComments(sql, span);
  const before = sql.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  return { statement: sql.slice(trimmed.start, trimmed.end).trim(), line, column };
}

/** Line (1-based) of `offset` in `text`. */
export function lineOf(text: string, offset: number): number {
  return text.slice(0, offset).split("\n").length;
}
