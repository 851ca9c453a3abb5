/**
 * Service accounts of the API and the ETL workers, and what they may do in BigQuery. Grants are
 * additive members (`DatasetIamMember`, `projects.IAMMember`): authoritative bindings would wipe
 * members that others added, and the dataset's inline access list is never used (DESIGN §7).
 * Keys, where the app runs outside GCP, belong to infra/credentials.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";

export interface ServiceAccountGrants {
  readonly displayName: string;
  /** Roles on the analytics dataset. */
  readonly datasetRoles: readonly string[];
  /** Roles on the project. */
  readonly projectRoles: readonly string[];
}

/** The accounts and their roles, as data: the tests and the docs read the same table. */
export const SERVICE_ACCOUNTS = {
  // The API reads the warehouse (attribution views) and runs query jobs.
  api: {
    displayName: "Synter API",
    datasetRoles: ["roles/bigquery.dataViewer"],
    projectRoles: ["roles/bigquery.jobUser"],
  },
  // Workers append events, metrics and runs (insert and load jobs).
  workers: {
    displayName: "Synter ETL workers",
    datasetRoles: ["roles/bigquery.dataEditor"],
    projectRoles: ["roles/bigquery.jobUser"],
  },
} as const satisfies Record<string, ServiceAccountGrants>;

export type ServiceAccountName = keyof typeof SERVICE_ACCOUNTS;

export interface ServiceAccountsArgs {
  readonly projectId: pulumi.Input<string>;
  /** The dataset id as an output of the dataset, so grants wait for it. */
  readonly datasetId: pulumi.Input<string>;
  /**
   * Appended to each account id (`synter-api<suffix>`): PR stacks share the dev project, so their
   * accounts need their own ids (e.g. `-pr-42`).
   */
  readonly accountIdSuffix: string;
  /** What accounts wait for (the IAM API). */
  readonly iamApi: pulumi.Resource;
  /** What project grants wait for (the resource manager API). */
  readonly projectIamApi: pulumi.Resource;
  /** What dataset grants wait for (the BigQuery API). */
  readonly bigqueryApi: pulumi.Resource;
}

/** `synter-<name><suffix>`: 6–30 characters, lower-case letters, digits and hyphens. */
export function serviceAccountId(name: ServiceAccountName, suffix: string): string {
  return `synter-${name}${suffix}`;
}

/** `roles/bigquery.dataViewer` → `bigquery-dataviewer`, for stable resource names. */
export function roleSlug(role: string): string {
  return role
    .replace(/^roles\//, "")
    .replace(/[^A-Za-z0-9]+/g, "-")
    .toLowerCase();
}

export function validateServiceAccountsArgs(args: ServiceAccountsArgs): string[] {
  const problems: string[] = [];
  for (const name of Object.keys(SERVICE_ACCOUNTS) as ServiceAccountName[]) {
    const id = serviceAccountId(name, args.accountIdSuffix);
    if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(id)) {
      problems.push(`service account id "${id}" must be 6–30 of a-z, 0-9 and -`);
    }
  }
  return problems;
}

export class ServiceAccounts extends pulumi.ComponentResource {
  readonly accounts: Readonly<Record<ServiceAccountName, gcp.serviceaccount.Account>>;
  readonly emails: Readonly<Record<ServiceAccountName, pulumi.Output<string>>>;

  constructor(name: string, args: ServiceAccountsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("synter:identity:ServiceAccounts", name, {}, opts);
    const problems = validateServiceAccountsArgs(args);
    if (problems.length > 0) {
      throw new pulumi.ResourceError(`invalid service accounts: ${problems.join("; ")}`, this);
    }
    const accounts = {} as Record<ServiceAccountName, gcp.serviceaccount.Account>;
    const emails = {} as Record<ServiceAccountName, pulumi.Output<string>>;
    for (const [accountName, grants] of Object.entries(SERVICE_ACCOUNTS) as [
      ServiceAccountName,
      ServiceAccountGrants,
    ][]) {
      const account = new gcp.serviceaccount.Account(
        `${name}-${accountName}`,
        {
          project: args.projectId,
          accountId: serviceAccountId(accountName, args.accountIdSuffix),
          displayName: grants.displayName,
        },
        { parent: this, dependsOn: [args.iamApi] },
      );
      const member = pulumi.interpolate`serviceAccount:${account.email}`;
      for (const role of grants.datasetRoles) {
        new gcp.bigquery.DatasetIamMember(
          `${name}-${accountName}-dataset-${roleSlug(role)}`,
          { project: args.projectId, datasetId: args.datasetId, role, member },
          { parent: this, dependsOn: [args.bigqueryApi] },
        );
      }
      for (const role of grants.projectRoles) {
        new gcp.projects.IAMMember(
          `${name}-${accountName}-project-${roleSlug(role)}`,
          { project: args.projectId, role, member },
          { parent: this, dependsOn: [args.projectIamApi] },
        );
      }
      accounts[accountName] = account;
      emails[accountName] = account.email;
    }
    this.accounts = accounts;
    this.emails = emails;
    this.registerOutputs({ emails });
  }
}
