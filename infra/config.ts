/**
 * The only reader of `pulumi.Config`. `loadConfig()` reads every key of the project namespace once;
 * `parseConfig()` (pure) validates the raw values into a plain typed object and reports every
 * problem at once, each line naming its key as `synter-platform:<section>.<path>`.
 *
 * The environment comes from the stack name (`dev`, `staging`, `prod`, `pr-<n>`, `local`) and sets
 * the safety defaults: protection, the dataset of a PR stack, and what config may not loosen (a
 * prod stack cannot be made destroyable by config). Every setting that depends on the environment
 * (protection, Cloud SQL tier and backups, Memorystore tier and network) is resolved here, once:
 * components receive the resolved values and never look at the stack's kind.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { analyticsTables } from "../schema/analytics";
import { ToolError } from "../src/errors/tool-error";
import {
  POSTGRES_SSL_MODES,
  hostingConfigShape,
  type AppConfig,
  type CloudSqlConfig,
  type CredentialsConfig,
  type MemorystoreConfig,
  type PostgresConfig,
  type RedisConfig,
} from "./hosting/config-schema";
import type { DevStackSettings } from "./hosting/dev-stack";
import { isConfigSecret } from "./pulumi-internals";
import type {
  CloudSqlSettings,
  MemorystoreNetwork,
  MemorystoreSettings,
  PostgresSettings,
  RedisSettings,
} from "./hosting/settings";

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
  /**
   * Pulumi `protect` plus the providers' deletion protection on every data resource: BigQuery,
   * the auth database and roles, and the Postgres and Redis servers wherever they run.
   * Default true in staging and prod, false elsewhere.
   */
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
    readonly requirePartitionFilter: readonly AnalyticsTableId[];
  };
  /** Labels for every labelled resource: the derived ones plus `labels` from config. */
  readonly labels: Readonly<Record<string, string>>;
  /** PR stacks: the dev stack whose Postgres server and Redis they reuse, and how to reach them. */
  readonly devStack?: DevStackSettings;
  /** With the environment's defaults resolved (Cloud SQL tier, backups, availability, region). */
  readonly postgres: PostgresSettings;
  /** With the environment's defaults resolved (Memorystore tier, region, network). */
  readonly redis: RedisSettings;
  readonly credentials: CredentialsConfig;
  readonly app: AppConfig;
  /** Config keys (unqualified, e.g. `postgres`) whose values are Pulumi secrets. */
  readonly secretKeys: readonly string[];
}

export type AnalyticsTableId = keyof typeof analyticsTables;

export const DEFAULT_DATASET_ID = "synter_analytics";
export const DEFAULT_DEV_STACK = `organization/${PROJECT_NAME}/dev`;
/** The dev stack's default hosting (Railway) serves Postgres with a self-signed certificate. */
export const DEFAULT_DEV_STACK_SSL_MODE = "require";

/** Labels the program sets itself; config may not override them. */
export const DERIVED_LABEL_KEYS = ["app", "environment", "stack", "managed-by"] as const;

export class ConfigError extends ToolError {
  constructor(
    readonly stack: string,
    readonly problems: readonly string[],
  ) {
    super("config", `invalid configuration for stack ${stack}:\n  - ${problems.join("\n  - ")}`);
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
    // Refused in every stack (see environmentProblems); known here so the message says why rather
    // than "unknown key".
    defaultTableExpirationDays: z.unknown().optional(),
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
    devStackPostgresSslMode: z
      .enum(POSTGRES_SSL_MODES, {
        message: `must be one of ${POSTGRES_SSL_MODES.join(", ")} (what the dev stack exports as postgresSslMode)`,
      })
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
  // A dataset's default table expiration is stamped on each table at its creation: BigQuery then
  // deletes the tables Pulumi manages while the state still lists them, and no later update
  // recreates them (a PR open longer than the expiration lost its tables).
  if (bigquery.defaultTableExpirationDays !== undefined) {
    problems.push(
      `${key("bigquery", "defaultTableExpirationDays")}: not supported: BigQuery would delete tables that Pulumi still holds in state once they expire, and no later update recreates them; remove it (a pr stack's dataset goes when the PR environment is destroyed)`,
    );
  }
  switch (environment.kind) {
    case "staging":
    case "prod":
      if (raw.protect === false) {
        problems.push(
          `${key("protect")}: must stay true in ${environment.kind} (it holds real data; teardown unprotects explicitly)`,
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
  if (environment.kind !== "pr" && raw.devStackPostgresSslMode !== undefined) {
    problems.push(
      `${key("devStackPostgresSslMode")}: only pr stacks read it (the sslmode of the dev stack's Postgres they reuse)`,
    );
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
  const hosting =
    parsed.success && typeof environment !== "string"
      ? resolveHostingSettings(parsed.data, environment)
      : undefined;
  if (hosting) problems.push(...hosting.problems);
  if (problems.length > 0 || !parsed.success || typeof environment === "string" || !hosting) {
    throw new ConfigError(stackName, problems);
  }
  const values = parsed.data;
  const isPr = environment.kind === "pr";
  const protect = values.protect ?? (environment.kind === "staging" || environment.kind === "prod");
  const { createProject } = values.gcp;
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
      requirePartitionFilter: values.bigquery.requirePartitionFilter,
    },
    labels: {
      ...values.labels,
      app: "synter",
      environment: environment.kind,
      stack: environment.stack,
      "managed-by": "pulumi",
    },
    ...(isPr && {
      devStack: {
        name: values.devStack ?? DEFAULT_DEV_STACK,
        postgresSslMode: values.devStackPostgresSslMode ?? DEFAULT_DEV_STACK_SSL_MODE,
        // Dev's Redis on Railway's private network speaks plain RESP.
        redisTls: false,
      },
    }),
    postgres: hosting.postgres,
    redis: hosting.redis,
    credentials: values.credentials,
    app: values.app,
    secretKeys: [...secretKeys].sort(),
  };
}

/** Cloud SQL machine tiers: shared-core outside prod (ENTERPRISE edition only), 2 vCPU in prod. */
export function defaultCloudSqlTier(kind: EnvironmentKind): string {
  switch (kind) {
    case "prod":
      return "db-custom-2-7680";
    case "staging":
      return "db-g1-small";
    case "dev":
    case "pr":
    case "local":
      return "db-f1-micro";
    default: {
      const unknown: never = kind;
      throw new Error(`unknown environment ${String(unknown)}`);
    }
  }
}

/**
 * Cloud SQL with the environment's defaults: backups in staging and prod, point-in-time recovery
 * and REGIONAL (HA) availability in prod. `problems` name their keys; a prod instance without
 * point-in-time recovery is one.
 */
export function resolveCloudSqlSettings(
  config: CloudSqlConfig,
  kind: EnvironmentKind,
  defaultRegion: string,
): { readonly settings: CloudSqlSettings; readonly problems: string[] } {
  const key = (...path: string[]) => configKeyName(["postgres", "cloudsql", ...path]);
  const prod = kind === "prod";
  const enabled = config.backups.enabled ?? (prod || kind === "staging");
  const pointInTimeRecovery = config.backups.pointInTimeRecovery ?? (prod && enabled);
  const availability = config.availability ?? (prod && pointInTimeRecovery ? "REGIONAL" : "ZONAL");
  const tier = config.tier ?? defaultCloudSqlTier(kind);
  const problems: string[] = [];
  if (pointInTimeRecovery && !enabled) {
    problems.push(`${key("backups", "pointInTimeRecovery")}: needs backups.enabled`);
  }
  if (availability === "REGIONAL" && !pointInTimeRecovery) {
    problems.push(`${key("availability")}: REGIONAL needs backups.pointInTimeRecovery`);
  }
  if (prod && !pointInTimeRecovery) {
    problems.push(
      `${key("backups", "pointInTimeRecovery")}: prod keeps backups and point-in-time recovery`,
    );
  }
  if (config.edition === "ENTERPRISE_PLUS" && !tier.startsWith("db-perf-optimized-")) {
    problems.push(`${key("tier")}: ENTERPRISE_PLUS supports only db-perf-optimized-* tiers`);
  }
  const { backups } = config;
  return {
    settings: {
      tier,
      edition: config.edition,
      region: config.region ?? defaultRegion,
      availability,
      ...(config.diskSizeGb !== undefined && { diskSizeGb: config.diskSizeGb }),
      authorizedNetworks: config.authorizedNetworks,
      backups: {
        enabled,
        pointInTimeRecovery,
        retainedBackups: backups.retainedBackups,
        transactionLogRetentionDays: backups.transactionLogRetentionDays,
        startTime: backups.startTime,
      },
      ...(config.adminHost !== undefined && { adminHost: config.adminHost }),
      ...(config.adminPort !== undefined && { adminPort: config.adminPort }),
    },
    problems,
  };
}

/**
 * Memorystore with the environment's defaults: STANDARD_HA in prod, BASIC elsewhere; and the
 * network it peers with. A project the stack creates has no `default` network, so it gets one of
 * its own (`synter-<stack>-redis`), unless config names one; private services access needs a
 * network with it set up, which is not created here, so there config must name it.
 */
export function resolveMemorystoreSettings(
  config: MemorystoreConfig,
  environment: Environment,
  gcp: { readonly region: string; readonly createsProject: boolean },
): { readonly settings: MemorystoreSettings; readonly problems: string[] } {
  const problems: string[] = [];
  let network: MemorystoreNetwork;
  if (config.authorizedNetwork !== undefined) {
    network = { kind: "configured", name: config.authorizedNetwork };
  } else if (!gcp.createsProject) {
    network = { kind: "default" };
  } else {
    network = { kind: "create", name: `synter-${environment.stack}-redis` };
    if (config.connectMode === "PRIVATE_SERVICE_ACCESS") {
      problems.push(
        `${configKeyName(["redis", "memorystore", "authorizedNetwork"])}: required with connectMode PRIVATE_SERVICE_ACCESS when the stack creates its project (gcp.createProject): name a network that has private services access set up`,
      );
    }
  }
  return {
    settings: {
      region: config.region ?? gcp.region,
      tier: config.tier ?? (environment.kind === "prod" ? "STANDARD_HA" : "BASIC"),
      memorySizeGb: config.memorySizeGb,
      connectMode: config.connectMode,
      snapshotPeriod: config.snapshotPeriod,
      network,
    },
    problems,
  };
}

/**
 * Both hosting sections with the environment's defaults resolved. Problems of a section count
 * only where it is chosen (`postgres.hosting: cloudsql`, `redis.hosting: memorystore`).
 */
export function resolveHostingSettings(
  values: {
    readonly gcp: { readonly region: string; readonly createProject?: unknown };
    readonly postgres: PostgresConfig;
    readonly redis: RedisConfig;
  },
  environment: Environment,
): {
  readonly postgres: PostgresSettings;
  readonly redis: RedisSettings;
  readonly problems: string[];
} {
  const cloudsql = resolveCloudSqlSettings(
    values.postgres.cloudsql,
    environment.kind,
    values.gcp.region,
  );
  const memorystore = resolveMemorystoreSettings(values.redis.memorystore, environment, {
    region: values.gcp.region,
    createsProject: values.gcp.createProject !== undefined,
  });
  return {
    postgres: { ...values.postgres, cloudsql: cloudsql.settings },
    redis: { ...values.redis, memorystore: memorystore.settings },
    problems: [
      ...(values.postgres.hosting === "cloudsql" ? cloudsql.problems : []),
      ...(values.redis.hosting === "memorystore" ? memorystore.problems : []),
    ],
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
