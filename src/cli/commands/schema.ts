/**
 * `synter-infra schema …`: export the generated artefacts of schema/ (BigQuery table JSON, view
 * SQL, Postgres schema JSON), regenerate the checked-in copies, and check every BigQuery SQL text
 * of the project with ZetaSQL.
 */
import { mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import type { Command } from "commander";
import { ToolError } from "../../errors/tool-error";
import { UsageError } from "../errors";
import { defaultViewTarget, validateViewTarget, type ViewTarget } from "../../../schema/views";
import {
  checkedInArtefacts,
  GENERATED_DIRECTORY,
  schemaExportFiles,
  staleArtefacts,
  type GeneratedFile,
} from "../../../schema/generate/schema-export";
import { checkProjectSql, projectSqlSources, sqlTemplateSource, ZetaSql } from "../../zetasql";

/** The repository root (this file is src/cli/commands/schema.ts). */
const repositoryRoot = resolve(__dirname, "..", "..", "..");

/** `schema generate --check`: a checked-in generated file is not what schema/ generates. */
export class StaleArtefactsError extends ToolError {
  constructor(readonly files: readonly string[]) {
    super("drift", `stale generated files (run npm run schema:generate):\n  ${files.join("\n  ")}`);
  }
}

/** `schema check` found SQL that does not analyze; the errors were printed above. */
export class SqlCheckFailedError extends ToolError {
  constructor(failed: number, total: number) {
    super("config", `${failed} of ${total} SQL sources have errors (ZetaSQL)`);
  }
}

const WRITE_ERRORS: Readonly<Record<string, string>> = {
  ENOTDIR: "a part of the path is not a directory",
  EEXIST: "a part of the path is a file",
  EISDIR: "a directory is in the way",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "the file system is read-only",
  ENOSPC: "no space left on the device",
};

/** A directory given by a flag that the files cannot be written to. */
export class OutputDirectoryError extends ToolError {
  constructor(flag: string, directory: string, error: NodeJS.ErrnoException) {
    super(
      "usage",
      `cannot write to ${flag} ${directory}: ${WRITE_ERRORS[error.code ?? ""] ?? error.message}${error.path ? ` (${error.path})` : ""}; pass a directory you can write to`,
      { cause: error },
    );
  }
}

interface TargetOptions {
  readonly project: string;
  readonly dataset: string;
}

function targetFrom(options: TargetOptions): ViewTarget {
  const target = { project: options.project, dataset: options.dataset };
  const problems = validateViewTarget(target);
  if (problems.length > 0) throw new UsageError(problems.join("; "));
  return target;
}

function writeFiles(directory: string, files: readonly GeneratedFile[]): void {
  for (const file of files) {
    const path = join(directory, file.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.content);
  }
}

export function registerSchemaCommands(program: Command): void {
  const schema = program
    .command("schema")
    .description("Generated artefacts of schema/ and offline checks of the BigQuery SQL");

  schema
    .command("export")
    .description(
      "Write bigquery/tables/<table>.json, bigquery/views/<view>.sql and postgres/schema.json",
    )
    .requiredOption("--out <dir>", "output directory (created if missing)")
    .option("--project <id>", "BigQuery project the views reference", defaultViewTarget.project)
    .option("--dataset <id>", "BigQuery dataset the views reference", defaultViewTarget.dataset)
    .option("--json", "print the written files as JSON")
    .action((options: TargetOptions & { out: string; json?: boolean }) => {
      const target = targetFrom(options);
      const files = schemaExportFiles(target);
      const out = resolve(options.out);
      try {
        writeFiles(out, files);
      } catch (error) {
        const e = error as NodeJS.ErrnoException;
        if (typeof e.code !== "string" || !e.syscall) throw error;
        throw new OutputDirectoryError("--out", options.out, e);
      }
      if (options.json) {
        process.stdout.write(
          `${JSON.stringify({ out, target, files: files.map((f) => f.path) }, null, 2)}\n`,
        );
      } else {
        for (const file of files) process.stdout.write(`wrote ${join(options.out, file.path)}\n`);
      }
    });

  schema
    .command("generate")
    .description(
      `Regenerate the checked-in artefacts (${GENERATED_DIRECTORY}/, docs/data-dictionary.md)`,
    )
    .option("--check", "only report stale artefacts; exit with the drift code if any")
    .action((options: { check?: boolean }) => {
      if (options.check) {
        const stale = staleArtefacts(repositoryRoot);
        if (stale.length > 0) {
          throw new StaleArtefactsError(stale);
        }
        process.stdout.write("generated files are up to date\n");
        return;
      }
      const artefacts = checkedInArtefacts();
      // The generated directory holds nothing else: clear it so removed tables/views disappear.
      rmSync(join(repositoryRoot, GENERATED_DIRECTORY), { recursive: true, force: true });
      writeFiles(repositoryRoot, artefacts);
      for (const file of artefacts) process.stdout.write(`wrote ${file.path}\n`);
    });

  schema
    .command("check")
    .description(
      "Analyze every view and other BigQuery SQL of the project with ZetaSQL against schema/",
    )
    .option(
      "--project <id>",
      "BigQuery project to render references with",
      defaultViewTarget.project,
    )
    .option(
      "--dataset <id>",
      "BigQuery dataset to render references with",
      defaultViewTarget.dataset,
    )
    .option(
      "--file <paths...>",
      "also analyze these .sql files (after the project's SQL; {{ref:<table or view>}} allowed)",
    )
    .option("--json", "print the results as JSON")
    .action(async (options: TargetOptions & { json?: boolean; file?: string[] }) => {
      const target = targetFrom(options);
      for (const file of options.file ?? []) {
        const isFile = statSync(file, { throwIfNoEntry: false })?.isFile();
        if (!isFile) {
          throw new UsageError(
            `--file ${file}: ${isFile === false ? "not a file" : "no such file"} (a .sql file with {{ref:<table or view>}} placeholders)`,
          );
        }
      }
      // An unreadable file or an unknown placeholder is a SqlSourceError naming the file.
      const sources = [
        ...projectSqlSources(target),
        ...(options.file ?? []).map((file) =>
          sqlTemplateSource(basename(file, ".sql"), resolve(file), target),
        ),
      ];
      const zeta = await ZetaSql.start();
      let report;
      try {
        report = await checkProjectSql(zeta, sources, target);
      } finally {
        await zeta.stop();
      }
      const display = (file: string): string => relative(process.cwd(), file) || file;
      if (options.json) {
        const results = report.results.map((result) => ({
          name: result.name,
          file: display(result.file),
          ok: result.ok,
          ...(result.ok
            ? {
                columns: (result.outputColumns ?? []).map((column) => ({
                  name: column.name,
                  type: column.type.typeKind?.replace(/^TYPE_/, ""),
                })),
              }
            : { line: result.line, column: result.column, message: result.message }),
        }));
        process.stdout.write(`${JSON.stringify({ ok: report.ok, target, results }, null, 2)}\n`);
      } else {
        for (const result of report.results) {
          if (result.ok) process.stdout.write(`ok    ${result.name} (${display(result.file)})\n`);
          else
            process.stderr.write(
              `${display(result.file)}:${result.line}:${result.column}: ${result.message}\n`,
            );
        }
      }
      const failed = report.results.filter((result) => !result.ok).length;
      if (failed > 0) {
        throw new SqlCheckFailedError(failed, report.results.length);
      }
      if (!options.json) {
        process.stdout.write(`${report.results.length} SQL sources analyzed, no errors\n`);
      }
    });
}
