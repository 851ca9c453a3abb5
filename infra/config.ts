/**
 * The only reader of `pulumi.Config`. `loadConfig()` reads every key of the project namespace once;
 * `parseConfig()` (pure) validates the raw values into a plain typed object and reports every
 * problem at once, each line naming its key as `synter-platform:<section>.<path>`.
 *
 * The environment comes from the stack name (`dev`, `staging`, `prod`, `pr-<n>`, `local`) and sets
 * the safety defaults: protection, the dataset of a PR stack, its table expiration, and what config
 * may not loosen (a prod stack cannot be made destroyable by config).
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { analyticsTables } from "../schema/analytics";
import {
  hostingConfigShape,
  type AppConfig,
  type CredentialsConfig,
  type PostgresConfig,
  type RedisConfig,
} from "./hosting/config-schema";

/** Pulumi project name (`name:` in Pulumi.yaml) and so the namespace of every key. */
export const PROJECT_NAME = "synter-platform";

export type EnvironmentKind = "local" | "dev" | "staging" | "prod" | "pr";

export interface Environment {
  readonly kind: EnvironmentKind;
  readonly stack: string;
  /** The pull request number of a `pr-<n>` stack. */
  readonly prNumber?: number;
}

export interface CreateProjectConfig {
  readonly name: string;
  readonly billingAccount: string;
  readonly folderId?: string;
  readonly orgId?: string;
}

export interface PlatformConfig {
  readonly environment: Environment;
  /** Pulumi `protect` plus the providers' deletion protection (BigQuery tables, Cloud SQL). */
  readonly protect: boolean;
  readonly gcp: {
    readonly projectId: string;
    readonly region: string;
    /** Set when the stack creates its project; otherwise the project must exist. */
    readonly createProject?: CreateProjectConfig;
  };
  readonly bigquery: {
    readonly datasetId: string;
    readonly location: string;
    readonly description: string;
    /** Only when configured; PR stacks default to a few days. */
    readonly defaultTableExpirationDays?: number;
    readonly requirePartitionFilter: readonly AnalyticsTableId[];
  };
  /** Labels for every labelled resource: the derived ones plus `labels` from config. */
  readonly labels: Readonly<Record<string, string>>;
  /** PR stacks: the dev stack whose Postgres server and Redis they reuse (`org/project/stack`). */
  readonly devStack?: string;
  readonly postgres: PostgresConfig;
  readonly redis: RedisConfig;
  readonly credentials: CredentialsConfig;
  readonly app: AppConfig;
  /** Config keys (unqualified, e.g. `postgres`) whose values are Pulumi secrets. */
  readonly secretKeys: readonly string[];
}

export type AnalyticsTableId = keyof typeof analyticsTables;

export const DEFAULT_DATASET_ID = "synter_analytics";
export const DEFAULT_PR_TABLE_EXPIRATION_DAYS = 3;
/** A PR dataset is disposable; a longer expiration suggests it was meant for another stack. */
export const MAX_PR_TABLE_EXPIRATION_DAYS = 30;
export const DEFAULT_DEV_STACK = `organization/${PROJECT_NAME}/dev`;

/** Labels the program sets itself; config may not override them. */
export const DERIVED_LABEL_KEYS = ["app", "environment", "stack", "managed-by"] as const;

export class ConfigError extends Error {
  constructor(
    readonly stack: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid configuration for stack ${stack}:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

/** The environment a stack name stands for, or why the name is not one. */
export function environmentOf(stack: string): Environment | string {
  switch (stack) {
    case "local":
    case "dev":
    case "staging":
    case "prod":
      return { kind: stack, stack };
  }
  const pr = /^pr-([1-9][0-9]{0,6})$/.exec(stack);
  if (pr) return { kind: "pr", stack, prNumber: Number(pr[1]) };
  return `stack name "${stack}" is not one of dev, staging, prod, local or pr-<number>`;
}

export function prDatasetId(prNumber: number): string {
  return `${DEFAULT_DATASET_ID}_pr_${prNumber}`;
}

// GCP project ids: 6–30 characters, lower-case letters, digits and hyphens, starting with a
// letter and not ending with a hyphen.
const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const BILLING_ACCOUNT = /^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$/;
const REGION = /^[a-z]+-[a-z]+[0-9]+$/;
// BigQuery locations: the multi-regions US and EU, or a region such as europe-west2.
const BIGQUERY_LOCATION = /^(US|EU|[a-z]+-[a-z]+[0-9]+)$/;
const DATASET_ID = /^[A-Za-z0-9_]{1,1024}$/;
// GCP labels: keys start with a lower-case letter; keys and values ≤ 63 of [a-z0-9_-].
const LABEL_KEY = /^[a-z][a-z0-9_-]{0,62}$/;
const LABEL_VALUE = /^[a-z0-9_-]{0,63}$/;
const STACK_REFERENCE = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

const tableIds = Object.keys(analyticsTables) as [AnalyticsTableId, ...AnalyticsTableId[]];

const createProjectSchema = z
  .object({
    name: z.string().min(4).max(30).optional(),
    billingAccount: z
      .string({ required_error: "required to create a project" })
      .regex(BILLING_ACCOUNT, "must look like 012345-6789AB-CDEF01"),
    folderId: z
      .string()
      .regex(/^[0-9]+$/, "must be a numeric folder id")
      .optional(),
    orgId: z
      .string()
      .regex(/^[0-9]+$/, "must be a numeric organization id")
      .optional(),
  })
  .strict()
  .superRefine((project, ctx) => {
    if ((project.folderId === undefined) === (project.orgId === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: [],
        message: "set exactly one of folderId and orgId (where the new project lives)",
      });
    }
  });

const gcpSchema = z
  .object({
    projectId: z
      .string({ required_error: "required: the GCP project id" })
      .regex(PROJECT_ID, "must be a GCP project id (6–30 of a-z, 0-9, -; starts with a letter)"),
    region: z
      .string()
      .regex(REGION, "must be a GCP region such as us-central1")
      .default("us-central1"),
    createProject: createProjectSchema.optional(),
  })
  .strict();

const bigquerySchema = z
  .object({
    datasetId: z.string().regex(DATASET_ID, "must be letters, digits and underscores").optional(),
    location: z
      .string()
      .regex(BIGQUERY_LOCATION, "must be US, EU or a region such as europe-west2")
      .default("US"),
    description: z.string().max(16384).optional(),
    defaultTableExpirationDays: z.number().int().min(1).max(3650).optional(),
    requirePartitionFilter: z
      .array(z.enum(tableIds, { message: `must be one of ${tableIds.join(", ")}` }))
      .default([]),
  })
  .strict();

const labelsSchema = z.record(
  z.string().regex(LABEL_KEY, "label keys start with a-z and hold ≤ 63 of a-z, 0-9, _ and -"),
  z.string().regex(LABEL_VALUE, "label values hold ≤ 63 of a-z, 0-9, _ and -"),
);

const rawConfigSchema = z
  .object({
    gcp: gcpSchema,
    bigquery: bigquerySchema.default({}),
    labels: labelsSchema.default({}),
    protect: z.boolean().optional(),
    devStack: z
      .string()
      .regex(STACK_REFERENCE, "must be <organization>/<project>/<stack>")
      .optional(),
    ...hostingConfigShape,
  })
  .strict();

/** Keys this program reads (unqualified): anything else in the namespace is a typo. */
export const CONFIG_KEYS = Object.keys(rawConfigSchema.shape);

/** `synter-platform:bigquery.location` from a zod path. */
export function configKeyName(path: readonly (string | number)[]): string {
  const [head, ...rest] = path;
  const tail = rest.map((part) => (typeof part === "number" ? `[${part}]` : `.${part}`)).join("");
  return `${PROJECT_NAME}:${String(head)}${tail}`;
}

function zodProblems(error: z.ZodError): string[] {
  const problems: string[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        problems.push(`${configKeyName([...issue.path, key])}: unknown key`);
      }
    } else if (issue.path.length === 0) {
      problems.push(`${PROJECT_NAME}: ${issue.message}`);
    } else {
      problems.push(`${configKeyName(issue.path)}: ${issue.message}`);
    }
  }
  return problems;
}

type Raw = Readonly<Record<string, unknown>>;

function section(raw: Raw, key: string): Raw {
  const value = raw[key];
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Raw) : {};
}

/**
 * What the environment forbids or requires, checked on the raw values (so these problems are
 * reported together with the type errors, not only once the types are right).
 */
export function environmentProblems(
  raw: Raw,
  environment: Environment,
  secretKeys: readonly string[],
): string[] {
  const problems: string[] = [];
  const key = (...path: string[]) => configKeyName(path);
  const bigquery = section(raw, "bigquery");
  const expiration = bigquery.defaultTableExpirationDays;
  switch (environment.kind) {
    case "staging":
    case "prod":
      if (raw.protect === false) {
        problems.push(
          `${key("protect")}: must stay true in ${environment.kind} (it holds real data; teardown unprotects explicitly)`,
        );
      }
      if (typeof expiration === "number") {
        problems.push(
          `${key("bigquery", "defaultTableExpirationDays")}: not allowed in ${environment.kind}: BigQuery would delete every table after ${expiration} days`,
        );
      }
      break;
    case "pr": {
      const expected = prDatasetId(environment.prNumber ?? 0);
      if (raw.protect === true) {
        problems.push(
          `${key("protect")}: must be false in a pr stack (it is destroyed when the PR closes)`,
        );
      }
      if (typeof bigquery.datasetId === "string" && bigquery.datasetId !== expected) {
        problems.push(
          `${key("bigquery", "datasetId")}: must be ${expected} in stack ${environment.stack} (a PR stack deletes its dataset's contents on destroy, so it never shares a dataset)`,
        );
      }
      if (typeof expiration === "number" && expiration > MAX_PR_TABLE_EXPIRATION_DAYS) {
        problems.push(
          `${key("bigquery", "defaultTableExpirationDays")}: at most ${MAX_PR_TABLE_EXPIRATION_DAYS} in a pr stack`,
        );
      }
      if (section(raw, "gcp").createProject !== undefined) {
        problems.push(
          `${key("gcp", "createProject")}: a pr stack uses the dev project; it never creates one`,
        );
      }
      for (const reused of ["postgres", "redis"]) {
        // Pulumi.yaml's default `{}` is fine; any setting means a server the PR stack won't create.
        if (raw[reused] !== undefined && Object.keys(section(raw, reused)).length > 0) {
          problems.push(
            `${key(reused)}: not allowed in a pr stack: it reuses the dev stack's server (see devStack)`,
          );
        }
      }
      break;
    }
    case "dev":
    case "local":
      break;
    default: {
      const unknown: never = environment.kind;
      throw new Error(`unknown environment ${String(unknown)}`);
    }
  }
  if (environment.kind === "local" && raw.gcp !== undefined && section(raw, "gcp").createProject) {
    problems.push(`${key("gcp", "createProject")}: the local environment has no cloud project`);
  }
  const labels = section(raw, "labels");
  for (const derived of DERIVED_LABEL_KEYS) {
    if (Object.hasOwn(labels, derived)) {
      problems.push(`${key("labels", derived)}: set by the program; remove it from config`);
    }
  }
  // Passwords in URLs must arrive as secrets, or they sit in plain text in Pulumi.<stack>.yaml
  // and in the state file.
  const secretFields: readonly [string, string, string][] = [
    ["postgres", "external", "adminUrl"],
    ["redis", "external", "url"],
  ];
  for (const [top, middle, leaf] of secretFields) {
    const value = section(section(raw, top), middle)[leaf];
    if (value !== undefined && !secretKeys.includes(top)) {
      problems.push(
        `${key(top, middle, leaf)}: must be a secret: pulumi config set --secret --path ${top}.${middle}.${leaf} <url>`,
      );
    }
  }
  return problems;
}

/**
 * Validates raw config values (unqualified key → decoded value) for a stack. Throws one
 * `ConfigError` listing every problem, each naming its key.
 */
export function parseConfig(
  raw: Raw,
  stackName: string,
  secretKeys: readonly string[] = [],
): PlatformConfig {
  const problems: string[] = [];
  const environment = environmentOf(stackName);
  if (typeof environment === "string") problems.push(environment);
  const parsed = rawConfigSchema.safeParse(raw);
  if (!parsed.success) problems.push(...zodProblems(parsed.error));
  if (typeof environment !== "string") {
    problems.push(...environmentProblems(raw, environment, secretKeys));
  }
  if (problems.length > 0 || !parsed.success || typeof environment === "string") {
    throw new ConfigError(stackName, problems);
  }
  const values = parsed.data;
  const isPr = environment.kind === "pr";
  const protect = values.protect ?? (environment.kind === "staging" || environment.kind === "prod");
  const { createProject } = values.gcp;
  const expirationDays =
    values.bigquery.defaultTableExpirationDays ??
    (isPr ? DEFAULT_PR_TABLE_EXPIRATION_DAYS : undefined);
  return {
    environment,
    protect,
    gcp: {
      projectId: values.gcp.projectId,
      region: values.gcp.region,
      ...(createProject && {
        createProject: {
          name: createProject.name ?? values.gcp.projectId,
          billingAccount: createProject.billingAccount,
          ...(createProject.folderId !== undefined && { folderId: createProject.folderId }),
          ...(createProject.orgId !== undefined && { orgId: createProject.orgId }),
        },
      }),
    },
    bigquery: {
      datasetId:
        values.bigquery.datasetId ??
        (isPr ? prDatasetId(environment.prNumber ?? 0) : DEFAULT_DATASET_ID),
      location: values.bigquery.location,
      description:
        values.bigquery.description ??
        `Synter analytics (${environment.stack}): events, ad metrics, conversions, touchpoints, agent runs and attribution views.`,
      ...(expirationDays !== undefined && { defaultTableExpirationDays: expirationDays }),
      requirePartitionFilter: values.bigquery.requirePartitionFilter,
    },
    labels: {
      ...values.labels,
      app: "synter",
      environment: environment.kind,
      stack: environment.stack,
      "managed-by": "pulumi",
    },
    ...(isPr && { devStack: values.devStack ?? DEFAULT_DEV_STACK }),
    postgres: values.postgres,
    redis: values.redis,
    credentials: values.credentials,
    app: values.app,
    secretKeys: [...secretKeys].sort(),
  };
}

/** Config values arrive as strings; structured and boolean/number values as JSON. */
export function decodeConfigValue(key: string, text: string): unknown {
  if (key === "devStack") return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Whether a key was set with `--secret`. The SDK's `isConfigSecret` is marked internal (its public
 * route, `getSecret` + `isSecret`, is asynchronous); without it no key counts as secret, which
 * makes `parseConfig` demand secrets rather than silently accept plain text.
 */
function isConfigSecret(fullKey: string): boolean {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const runtimeConfig = require("@pulumi/pulumi/runtime/config") as {
    isConfigSecret?: (key: string) => boolean;
  };
  return runtimeConfig.isConfigSecret?.(fullKey) ?? false;
}

/** Reads the project's config once and validates it (see `parseConfig`). */
export function loadConfig(): PlatformConfig {
  const config = new pulumi.Config(PROJECT_NAME);
  const prefix = `${PROJECT_NAME}:`;
  const raw: Record<string, unknown> = {};
  const secretKeys: string[] = [];
  // Every key of the namespace, not only the known ones, so a misspelt key is reported.
  for (const fullKey of Object.keys(pulumi.runtime.allConfig())) {
    if (!fullKey.startsWith(prefix)) continue;
    const key = fullKey.slice(prefix.length);
    const text = config.get(key);
    if (text === undefined) continue;
    raw[key] = decodeConfigValue(key, text);
    if (isConfigSecret(fullKey)) secretKeys.push(key);
  }
  return parseConfig(raw, pulumi.getStack(), secretKeys);
}

/** The placeholder of `Pulumi.pr.template.yaml` that stands for the pull request number. */
export const PR_NUMBER_PLACEHOLDER = "__PR_NUMBER__";

/** `Pulumi.pr-<n>.yaml`'s text from the template's (same as `sed s/__PR_NUMBER__/<n>/g`). */
export function renderPrStackConfig(template: string, prNumber: number): string {
  if (!Number.isInteger(prNumber) || prNumber < 1) {
    throw new Error(`pull request number ${prNumber} must be a positive integer`);
  }
  if (!template.includes(PR_NUMBER_PLACEHOLDER)) {
    throw new Error(`the PR stack template has no ${PR_NUMBER_PLACEHOLDER} placeholder`);
  }
  return template.replaceAll(PR_NUMBER_PLACEHOLDER, String(prNumber));
}
