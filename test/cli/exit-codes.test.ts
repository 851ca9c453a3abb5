/**
 * The one table from error kind to exit code: every kind has a code, the codes are distinct, and
 * the README prints exactly this table. The error handler follows it: a ToolError exits with its
 * kind's code and one line, anything else is internal (70) with its stack.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CommanderError } from "commander";
import { reportError } from "../../src/cli/main";
import { UserError } from "../../src/cli/errors";
import { EXIT_CODE_MEANINGS, EXIT_CODES, exitCodeRows } from "../../src/cli/exit-codes";
import { ERROR_KINDS, ToolError } from "../../src/errors/tool-error";
import { pg, pgTable } from "../../schema/dsl/postgres";

/** The rows between the README's exit-codes markers, cells trimmed, backticks dropped. */
function readmeRows(): { code: number; kind: string; meaning: string }[] {
  const readme = readFileSync(join(__dirname, "..", "..", "README.md"), "utf8");
  const match = /<!-- exit-codes:begin -->\n([\s\S]*?)<!-- exit-codes:end -->/.exec(readme);
  if (!match) throw new Error("README.md has no <!-- exit-codes:begin/end --> table");
  return match[1]!
    .split("\n")
    .filter((line) => line.startsWith("|"))
    .slice(2) // header and separator
    .map((line) => {
      const [code, kind, meaning] = line
        .slice(1, -1)
        .split("|")
        .map((cell) => cell.trim());
      return { code: Number(code), kind: kind!.replace(/`/g, ""), meaning: meaning! };
    });
}

describe("the exit-code table", () => {
  it("gives every kind its own code, none of them 0 or 1", () => {
    expect(Object.keys(EXIT_CODES).sort()).toEqual([...ERROR_KINDS].sort());
    const codes = Object.values(EXIT_CODES);
    expect(new Set(codes).size).toBe(codes.length);
    expect(codes).not.toContain(0);
    expect(codes).not.toContain(1);
    expect(EXIT_CODES).toEqual({
      usage: 2,
      config: 3,
      unreachable: 4,
      auth: 5,
      drift: 6,
      mismatch: 7,
      refused: 8,
      internal: 70,
      interrupted: 130,
    });
  });

  it("is the table the README prints", () => {
    expect(readmeRows()).toEqual(exitCodeRows());
  });

  it("names every check that exits with the drift code (test/migrate-generate checks --check's)", () => {
    expect(EXIT_CODE_MEANINGS.drift).toBe(
      "the live system, a generated file or the migrations differ from `schema/` (`migrate verify`, `schema generate --check`, `migrate generate --check`)",
    );
  });
});

describe("the error handler", () => {
  let stderr: string;
  let spy: jest.SpyInstance;
  beforeEach(() => {
    stderr = "";
    spy = jest.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      stderr += String(chunk);
      return true;
    });
  });
  afterEach(() => spy.mockRestore());
  const context = { verbose: false, command: "synter-infra migrate up" };

  it.each(ERROR_KINDS.filter((kind) => kind !== "internal"))(
    "a %s ToolError: one line and its code",
    (kind) => {
      expect(reportError(new ToolError(kind, "the thing failed; do this"), context)).toBe(
        EXIT_CODES[kind],
      );
      expect(stderr).toBe("error: the thing failed; do this\n");
    },
  );

  it("a table schema/ cannot define is a config error: one line, exit 3", () => {
    let thrown: unknown;
    try {
      pgTable("t", { a: pg.text() }, { description: "t" });
    } catch (error) {
      thrown = error;
    }
    expect(reportError(thrown, context)).toBe(EXIT_CODES.config);
    expect(stderr).toBe(
      "error: invalid table t: needs exactly one primary key column, has 0; column a has no description; fix its definition in schema/\n",
    );
  });

  it("any other error is internal: exit 70 and its stack", () => {
    const bug = new TypeError("x is undefined");
    expect(reportError(bug, context)).toBe(70);
    expect(stderr).toBe(`internal error: ${bug.stack}\n`);
  });

  it("an internal ToolError keeps its stack too", () => {
    const bug = new ToolError("internal", "impossible state");
    expect(reportError(bug, context)).toBe(70);
    expect(stderr).toBe(`internal error: ${bug.stack}\n`);
  });

  it("--verbose adds the stack and its causes", () => {
    const cause = new Error("ECONNREFUSED");
    const error = new ToolError("unreachable", "cannot reach it", { cause });
    expect(reportError(error, { ...context, verbose: true })).toBe(EXIT_CODES.unreachable);
    expect(stderr).toBe(`error: cannot reach it\n${error.stack}\ncaused by: ${cause.stack}\n`);
  });

  it("commander's parse errors are usage errors on one line; help and version exit 0", () => {
    const parse = new CommanderError(1, "commander.unknownOption", "error: unknown option '--x'");
    expect(reportError(parse, context)).toBe(EXIT_CODES.usage);
    expect(stderr).toBe("error: unknown option '--x'; see synter-infra migrate up --help\n");
    stderr = "";
    expect(reportError(new CommanderError(0, "commander.version", "0.1.0"), context)).toBe(0);
    expect(reportError(new CommanderError(0, "commander.helpDisplayed", "(help)"), context)).toBe(
      0,
    );
    expect(stderr).toBe("");
  });

  it("the transitional UserError exits by the kind its old code stood for", () => {
    expect(new UserError("bad flag", 2).kind).toBe("usage");
    expect(new UserError("differs", 4).kind).toBe("mismatch");
    expect(new UserError("failed").kind).toBe("config");
    expect(reportError(new UserError("differs", 4), context)).toBe(EXIT_CODES.mismatch);
  });
});
