/**
 * Reads a stack's configuration the way the Pulumi CLI hands it to a program: `Pulumi.yaml`'s
 * project name and config defaults, then `Pulumi.<stack>.yaml`. Keys without a namespace belong to
 * the project (`foo` → `<project>:foo`). Values that are not strings are passed as JSON, as the CLI
 * does for structured config.
 *
 * Secure values (`{ secure: "v1:…" }`, at the top or inside a structured value) cannot be
 * decrypted here — there is no passphrase or KMS key in a fork's pull request — so each is replaced
 * by a placeholder and its key marked secret: the program sees a secret of the right kind, and the
 * plan only ever prints `[secret]`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml, YAMLParseError } from "yaml";
import { renderPrStackConfig } from "../../infra/config";
import { ToolError } from "../errors/tool-error";

/** `Pulumi.yaml` or a stack file is missing, not YAML, or not shaped as Pulumi reads it. */
export class StackConfigError extends ToolError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("config", message, options);
  }
}

/** The stack asked for has no configuration (or is no valid stack name). */
export class UnknownStackError extends ToolError {
  constructor(message: string) {
    super("usage", message);
  }
}

/** `file:line:column: invalid YAML: reason`, the reason without the yaml library's excerpt. */
function yamlError(file: string, error: YAMLParseError): StackConfigError {
  const position = error.linePos?.[0];
  const reason = error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
  return new StackConfigError(
    `${file}${position ? `:${position.line}:${position.col}` : ""}: invalid YAML: ${reason}; fix the file`,
    { cause: error },
  );
}

export interface StackConfig {
  readonly project: string;
  readonly stack: string;
  /** Fully qualified key (`project:key`, `gcp:project`) → string value, as the runtime stores it. */
  readonly values: Readonly<Record<string, string>>;
  /** Keys whose values are secret (secure in the stack file); their values are placeholders. */
  readonly secretKeys: readonly string[];
}

export function projectFilePath(projectDir: string): string {
  return path.join(projectDir, "Pulumi.yaml");
}

export function stackFilePath(projectDir: string, stack: string): string {
  return path.join(projectDir, `Pulumi.${stack}.yaml`);
}

function readYamlObject(
  file: string,
  text = fs.readFileSync(file, "utf8"),
): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    if (error instanceof YAMLParseError) throw yamlError(file, error);
    throw error;
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new StackConfigError(`${file}: expected a YAML mapping at the top level`);
  }
  return parsed as Record<string, unknown>;
}

function qualify(project: string, key: string): string {
  return key.includes(":") ? key : `${project}:${key}`;
}

function asConfigString(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function isSecure(value: unknown): value is { secure: string } {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length === 1 &&
    typeof (value as { secure?: unknown }).secure === "string"
  );
}

/**
 * A placeholder shaped like what the key likely holds (a URL-looking key gets a URL), so that the
 * program's own validation of the value's form does not reject it. It is never printed.
 */
export function placeholderSecret(key: string): string {
  const bare = key.split(":").pop() ?? key;
  if (/url|uri|dsn/i.test(bare)) {
    return `postgres://plan-placeholder:plan-placeholder@plan-placeholder.invalid:5432/${bare.toLowerCase()}`;
  }
  return `plan-placeholder-secret-${bare}`;
}

/**
 * A structured value with its `secure` leaves (set with `--path --secret`) replaced by placeholders:
 * one such leaf makes the whole key secret, as in the CLI. `key` names the placeholder's shape.
 */
function withPlaceholderSecrets(value: unknown, key: string): { value: unknown; secret: boolean } {
  if (isSecure(value)) return { value: placeholderSecret(key), secret: true };
  if (typeof value !== "object" || value === null) return { value, secret: false };
  let secret = false;
  const entries = Object.entries(value).map(([field, inner]) => {
    const replaced = withPlaceholderSecrets(inner, Array.isArray(value) ? key : field);
    secret ||= replaced.secret;
    return [field, replaced.value] as const;
  });
  return {
    value: Array.isArray(value) ? entries.map(([, inner]) => inner) : Object.fromEntries(entries),
    secret,
  };
}

export interface ReadStackConfigOptions {
  /** The stack file's text, instead of reading `Pulumi.<stack>.yaml` (tests, a rendered file). */
  readonly stackFileText?: string;
}

export function readStackConfig(
  projectDir: string,
  stack: string,
  options: ReadStackConfigOptions = {},
): StackConfig {
  const projectFile = projectFilePath(projectDir);
  if (!fs.existsSync(projectFile)) {
    throw new StackConfigError(
      `no Pulumi project here: ${projectFile} does not exist (pass --project-dir)`,
    );
  }
  const projectYaml = readYamlObject(projectFile);
  const project = projectYaml.name;
  if (typeof project !== "string" || project === "") {
    throw new StackConfigError(`${projectFile}: "name" (the project name) is missing`);
  }
  let stackFile = stackFilePath(projectDir, stack);
  let stackText = options.stackFileText;
  const pr = /^pr-(\d+)$/.exec(stack);
  if (pr && !/^[1-9]\d*$/.test(pr[1]!)) {
    throw new UnknownStackError(
      `no stack "${stack}": a pull request's stack is pr-<n>, n the PR number (1 or more, no leading zeros)`,
    );
  }
  const template = path.join(projectDir, "Pulumi.pr.template.yaml");
  if (stackText === undefined && !fs.existsSync(stackFile) && pr && fs.existsSync(template)) {
    // A PR stack not created yet: plan it from the template, as the PR workflow will create it.
    stackText = renderPrStackConfig(fs.readFileSync(template, "utf8"), Number(pr[1]));
    stackFile = template;
  }
  if (stackText === undefined && !fs.existsSync(stackFile)) {
    const known = fs
      .readdirSync(projectDir)
      .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
      .filter((s): s is string => s !== undefined)
      // The PR template is not a stack: it makes every `pr-<n>`.
      .map((s) => (s === "pr.template" ? "pr-<n>" : s))
      .sort();
    throw new UnknownStackError(
      `no configuration for stack "${stack}": ${stackFile} does not exist (stacks: ${known.join(", ") || "none"})`,
    );
  }

  const values: Record<string, string> = {};
  const secretKeys = new Set<string>();

  // Project-level defaults: `config: { key: { default: … } }` or `config: { key: value }`.
  const projectConfig = projectYaml.config;
  if (projectConfig && typeof projectConfig === "object" && !Array.isArray(projectConfig)) {
    for (const [key, declared] of Object.entries(projectConfig as Record<string, unknown>)) {
      const isDeclaration =
        declared !== null &&
        typeof declared === "object" &&
        !Array.isArray(declared) &&
        ("default" in declared || "type" in declared || "description" in declared);
      const value = isDeclaration ? (declared as { default?: unknown }).default : declared;
      if (value !== undefined) values[qualify(project, key)] = asConfigString(value);
    }
  }

  const stackConfig = readYamlObject(stackFile, stackText).config;
  if (stackConfig && typeof stackConfig === "object" && !Array.isArray(stackConfig)) {
    for (const [key, value] of Object.entries(stackConfig as Record<string, unknown>)) {
      const qualified = qualify(project, key);
      const { value: plain, secret } = withPlaceholderSecrets(value, qualified);
      values[qualified] = asConfigString(plain);
      if (secret) secretKeys.add(qualified);
    }
  }
  return { project, stack, values, secretKeys: [...secretKeys].sort() };
}
