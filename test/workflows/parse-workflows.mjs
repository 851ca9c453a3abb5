// Parses GitHub workflow files with GitHub's own parser (@actions/workflow-parser, ESM-only, hence
// a separate process) and prints {file: [errors]} as JSON: schema errors and conversion errors.
import { readFileSync } from "node:fs";
import process from "node:process";
import { register } from "node:module";
import { basename } from "node:path";

// The package imports its JSON schema without `with { type: "json" }` (it targets bundlers);
// Node refuses that, so a load hook adds the attribute.
const addJsonAttribute = `export async function load(url, context, next) {
  return url.endsWith(".json") ? next(url, { ...context, importAttributes: { type: "json" } }) : next(url, context);
}`;
register(`data:text/javascript,${encodeURIComponent(addJsonAttribute)}`);
const { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } =
  await import("@actions/workflow-parser");

const report = {};
for (const file of process.argv.slice(2)) {
  const result = parseWorkflow(
    { name: basename(file), content: readFileSync(file, "utf8") },
    new NoOperationTraceWriter(),
  );
  const errors = result.context.errors.getErrors().map((e) => e.message);
  if (result.value && errors.length === 0) {
    const template = await convertWorkflowTemplate(result.context, result.value);
    for (const e of template.errors ?? []) errors.push(e.Message ?? e.message ?? String(e));
  }
  report[basename(file)] = errors;
}
process.stdout.write(JSON.stringify(report));
