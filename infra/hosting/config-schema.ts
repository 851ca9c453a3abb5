/**
 * Config sections `postgres`, `redis`, `credentials` and `app`: pure zod schemas (no
 * pulumi.Config here — infra/config.ts is the only reader and composes these into its own schema:
 * `z.object({ ...hostingConfigShape, ...yourSections })`). Every section has defaults, so a stack
 * with none of these keys gets Railway for Postgres and Redis, keys for an app outside GCP rotated
 * every 90 days, and no Railway variable wiring.
 *
 * Secret values (`postgres.external.adminUrl`, `redis.external.url`) arrive here as plain strings
 * because structured config is read in one piece; the factories wrap them with `pulumi.secret`
 * before anything else touches them, and no message below ever quotes them.
 */
import { z } from "zod";
import { ToolError } from "../../src/errors/tool-error";

export const POSTGRES_HOSTINGS = ["railway", "cloudsql", "external"] as const;
export const REDIS_HOSTINGS = ["railway", "memorystore", "external"] as const;
export const POSTGRES_SSL_MODES = ["disable", "require", "verify-ca", "verify-full"] as const;

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Why `cidr` is not a usable authorized network, or undefined when it is. */
export function authorizedNetworkProblem(cidr: string): string | undefined {
  const match = IPV4_CIDR.exec(cidr);
  if (match === null) return "must be an IPv4 CIDR such as 203.0.113.7/32";
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((octet) => octet > 255) || prefix > 32) {
    return "must be an IPv4 CIDR such as 203.0.113.7/32";
  }
  // A /0 admits the whole internet: password-only protection for the auth database.
  if (prefix === 0) return "must not open the instance to the whole internet (a /0 range)";
  return undefined;
}

const authorizedNetworkSchema = z
  .object({
    name: z.string().min(1),
    cidr: z.string(),
  })
  .strict()
  .superRefine((network, ctx) => {
    const problem = authorizedNetworkProblem(network.cidr);
    if (problem !== undefined) ctx.addIssue({ code: "custom", path: ["cidr"], message: problem });
  });

const cloudSqlSchema = z
  .object({
    /** Machine tier; default per stack (see `defaultCloudSqlTier`). */
    tier: z.string().min(1).optional(),
    /** Set explicitly: Postgres 16+ would silently default to ENTERPRISE_PLUS. */
    edition: z.enum(["ENTERPRISE", "ENTERPRISE_PLUS"]).default("ENTERPRISE"),
    /** Region; default the stack's region. */
    region: z.string().min(1).optional(),
    /** ZONAL or REGIONAL (HA); default REGIONAL in prod, ZONAL elsewhere. */
    availability: z.enum(["ZONAL", "REGIONAL"]).optional(),
    diskSizeGb: z.number().int().min(10).optional(),
    authorizedNetworks: z.array(authorizedNetworkSchema).default([]),
    backups: z
      .object({
        /** Default on in staging and prod. */
        enabled: z.boolean().optional(),
        /** Default on in prod. */
        pointInTimeRecovery: z.boolean().optional(),
        retainedBackups: z.number().int().min(1).max(365).default(7),
        transactionLogRetentionDays: z.number().int().min(1).max(35).default(7),
        startTime: z
          .string()
          .regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be HH:MM (UTC)")
          .default("03:00"),
      })
      .strict()
      .default({}),
    /**
     * Where Pulumi reaches the instance for roles and migrations when not its public IP, e.g.
     * `127.0.0.1` with the Cloud SQL Auth Proxy running beside `pulumi up`.
     */
    adminHost: z.string().min(1).optional(),
    adminPort: z.number().int().min(1).max(65535).optional(),
  })
  .strict()
  .superRefine((cloudsql, ctx) => {
    if (cloudsql.tier !== undefined) {
      const perfOptimized = cloudsql.tier.startsWith("db-perf-optimized-");
      if (cloudsql.edition === "ENTERPRISE_PLUS" && !perfOptimized) {
        ctx.addIssue({
          code: "custom",
          path: ["tier"],
          message: "ENTERPRISE_PLUS supports only db-perf-optimized-* tiers",
        });
      }
      if (cloudsql.edition === "ENTERPRISE" && perfOptimized) {
        ctx.addIssue({
          code: "custom",
          path: ["tier"],
          message: "db-perf-optimized-* tiers need edition ENTERPRISE_PLUS",
        });
      }
    }
    if (cloudsql.edition === "ENTERPRISE" && cloudsql.backups.transactionLogRetentionDays > 7) {
      ctx.addIssue({
        code: "custom",
        path: ["backups", "transactionLogRetentionDays"],
        message: "ENTERPRISE keeps at most 7 days of transaction logs",
      });
    }
    const { enabled, pointInTimeRecovery } = cloudsql.backups;
    if (enabled === false && pointInTimeRecovery === true) {
      ctx.addIssue({
        code: "custom",
        path: ["backups", "pointInTimeRecovery"],
        message: "needs backups.enabled",
      });
    }
    if (cloudsql.availability === "REGIONAL" && pointInTimeRecovery === false) {
      ctx.addIssue({
        code: "custom",
        path: ["availability"],
        message: "REGIONAL needs backups.pointInTimeRecovery",
      });
    }
    if (cloudsql.adminPort !== undefined && cloudsql.adminHost === undefined) {
      ctx.addIssue({ code: "custom", path: ["adminHost"], message: "required with adminPort" });
    }
  });

/** Why `url` is not a usable Postgres admin URL; never quotes the URL (it holds a password). */
export function postgresUrlProblems(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return ["is not a URL"];
  }
  const problems: string[] = [];
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    problems.push("must start with postgresql:// or postgres://");
  }
  if (parsed.hostname === "") problems.push("has no host");
  if (parsed.username === "") problems.push("has no user");
  if (parsed.password === "") problems.push("has no password");
  const sslMode = parsed.searchParams.get("sslmode");
  if (sslMode !== null && !(POSTGRES_SSL_MODES as readonly string[]).includes(sslMode)) {
    problems.push(`has sslmode=${sslMode}; use one of ${POSTGRES_SSL_MODES.join(", ")}`);
  }
  return problems;
}

/** Why `url` is not a usable Redis URL; never quotes the URL. */
export function redisUrlProblems(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return ["is not a URL"];
  }
  const problems: string[] = [];
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    problems.push("must start with redis:// or rediss://");
  }
  if (parsed.hostname === "") problems.push("has no host");
  if (parsed.password === "") problems.push("has no password (BullMQ's Redis must require AUTH)");
  return problems;
}

const externalPostgresSchema = z
  .object({
    /** Secret: a login that may create databases and roles (e.g. a Railway plugin's URL). */
    adminUrl: z.string().optional(),
    /** Host/port the app uses when it differs from the admin URL's (a private network name). */
    appHost: z.string().min(1).optional(),
    appPort: z.number().int().min(1).max(65535).optional(),
  })
  .strict()
  .default({});

/** An external server's URL: required with `hosting: external`, and well-formed. */
function checkExternalUrl(
  ctx: z.RefinementCtx,
  section: "postgres" | "redis",
  key: string,
  url: string | undefined,
  problemsOf: (url: string) => string[],
): void {
  const path = ["external", key];
  if (url === undefined) {
    ctx.addIssue({
      code: "custom",
      path,
      message: `required when ${section}.hosting is external (set it with --secret)`,
    });
    return;
  }
  for (const message of problemsOf(url)) ctx.addIssue({ code: "custom", path, message });
}

export const postgresConfigSchema = z
  .object({
    hosting: z.enum(POSTGRES_HOSTINGS).default("railway"),
    cloudsql: cloudSqlSchema.default({}),
    external: externalPostgresSchema,
    railway: z
      .object({ serviceName: z.string().min(1).default("postgres") })
      .strict()
      .default({}),
  })
  .strict()
  .superRefine((postgres, ctx) => {
    if (postgres.hosting === "external") {
      checkExternalUrl(
        ctx,
        "postgres",
        "adminUrl",
        postgres.external.adminUrl,
        postgresUrlProblems,
      );
    }
  });

export const REDIS_SNAPSHOT_PERIODS = [
  "ONE_HOUR",
  "SIX_HOURS",
  "TWELVE_HOURS",
  "TWENTY_FOUR_HOURS",
] as const;

export const redisConfigSchema = z
  .object({
    hosting: z.enum(REDIS_HOSTINGS).default("railway"),
    memorystore: z
      .object({
        memorySizeGb: z.number().int().min(1).max(300).default(1),
        /** Default STANDARD_HA in prod, BASIC elsewhere. */
        tier: z.enum(["BASIC", "STANDARD_HA"]).optional(),
        region: z.string().min(1).optional(),
        /**
         * VPC the instance peers with; default the project's `default` network, or, in a project
         * the stack creates (which has none), a network created for it.
         */
        authorizedNetwork: z.string().min(1).optional(),
        connectMode: z.enum(["DIRECT_PEERING", "PRIVATE_SERVICE_ACCESS"]).default("DIRECT_PEERING"),
        snapshotPeriod: z.enum(REDIS_SNAPSHOT_PERIODS).default("TWELVE_HOURS"),
      })
      .strict()
      .default({}),
    external: z
      .object({
        /** Secret: `redis://` or `rediss://` URL with the password. */
        url: z.string().optional(),
      })
      .strict()
      .default({}),
    railway: z
      .object({ serviceName: z.string().min(1).default("redis") })
      .strict()
      .default({}),
  })
  .strict()
  .superRefine((redis, ctx) => {
    if (redis.hosting === "external") {
      checkExternalUrl(ctx, "redis", "url", redis.external.url, redisUrlProblems);
    }
  });

export const credentialsConfigSchema = z
  .object({
    /**
     * True when the API and workers run outside GCP (Railway): they need service-account keys.
     * False on GCP: the attached service account / workload identity is used and no key exists.
     */
    appOutsideGcp: z.boolean().default(true),
    /** Each key is exported for one period and stays valid one more (see infra/credentials). */
    rotationDays: z.number().int().min(1).max(365).default(90),
    /** Day rotation periods are counted from (UTC); changing it moves every window. */
    rotationAnchor: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date YYYY-MM-DD")
      // Date.parse rolls 2026-02-30 over to March; only a round trip catches it.
      .refine((day) => isCalendarDay(day), "is not a real date")
      .default("2026-01-01"),
  })
  .strict();

export function isCalendarDay(day: string): boolean {
  const ms = Date.parse(`${day}T00:00:00Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === day;
}

const railwayServiceIds = [
  "projectId",
  "environmentId",
  "apiServiceId",
  "workerServiceId",
] as const;

export const appConfigSchema = z
  .object({
    /** The app's Railway services: when set, `pulumi up` writes appEnv into them as variables. */
    railway: z
      .object({
        projectId: z.string().min(1).optional(),
        environmentId: z.string().min(1).optional(),
        apiServiceId: z.string().min(1).optional(),
        workerServiceId: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((app, ctx) => {
    if (app.railway === undefined) return;
    const railway = app.railway;
    const given = railwayServiceIds.filter((key) => railway[key] !== undefined);
    if (given.length === 0 || given.length === railwayServiceIds.length) return;
    for (const key of railwayServiceIds) {
      if (railway[key] === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["railway", key],
          message: `required with app.railway.${given[0]} (all four ids or none)`,
        });
      }
    }
  });

/** Spread into infra/config.ts's `z.object({...})`. */
export const hostingConfigShape = {
  postgres: postgresConfigSchema.default({}),
  redis: redisConfigSchema.default({}),
  credentials: credentialsConfigSchema.default({}),
  app: appConfigSchema.default({}),
};

export const hostingConfigSchema = z.object(hostingConfigShape);

export type PostgresConfig = z.infer<typeof postgresConfigSchema>;
export type CloudSqlConfig = PostgresConfig["cloudsql"];
export type RedisConfig = z.infer<typeof redisConfigSchema>;
export type MemorystoreConfig = RedisConfig["memorystore"];
export type CredentialsConfig = z.infer<typeof credentialsConfigSchema>;
export type AppConfig = z.infer<typeof appConfigSchema>;
export type HostingConfig = z.infer<typeof hostingConfigSchema>;

/** One line per problem, `key.path: message`, in the order zod found them. */
export function formatConfigIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const key = issue.path
      .map((part, index) =>
        typeof part === "number" ? `[${part}]` : index === 0 ? part : `.${part}`,
      )
      .join("");
    return `${key === "" ? "(config)" : key}: ${issue.message}`;
  });
}

export class HostingConfigError extends ToolError {
  constructor(readonly problems: readonly string[]) {
    super("config", `invalid configuration:\n  ${problems.join("\n  ")}`);
  }
}

/** Parse the four sections, throwing once with every problem. For tests and the CLI. */
export function parseHostingConfig(raw: unknown): HostingConfig {
  const result = hostingConfigSchema.safeParse(raw);
  if (!result.success) throw new HostingConfigError(formatConfigIssues(result.error));
  return result.data;
}
