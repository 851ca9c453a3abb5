/**
 * The least GCP roles a stack's identities need, derived from the resource types its program
 * creates (the offline plan): what `pulumi up` needs to create, update and delete them, and what a
 * preview needs to read them. A GCP resource type with no entry here fails the derivation, so a
 * new kind of resource cannot reach a workflow without someone deciding its role.
 */
import type { Plan } from "../plan/resource-graph";

/** Where a role is granted. */
export type RoleScope = "project" | "parent folder or organization" | "billing account";

export interface GcpRoleGrant {
  readonly role: string;
  readonly scope: RoleScope;
  /** An IAM condition on the grant, when one narrows it. */
  readonly condition?: string;
}

interface TypeRoles {
  readonly deploy: readonly GcpRoleGrant[];
  readonly preview: readonly GcpRoleGrant[];
}

const onProject = (role: string): GcpRoleGrant => ({ role, scope: "project" });

const BIGQUERY: TypeRoles = {
  // Datasets, tables, views and dataset IAM members (bigquery.datasets.setIamPolicy).
  deploy: [onProject("roles/bigquery.dataOwner")],
  preview: [onProject("roles/bigquery.metadataViewer")],
};
const CLOUD_SQL: TypeRoles = {
  deploy: [onProject("roles/cloudsql.admin")],
  preview: [onProject("roles/cloudsql.viewer")],
};

/** Roles by resource type token (`gcp:<module>/<name>:<Name>`). */
const ROLES_BY_TYPE: Readonly<Record<string, TypeRoles>> = {
  "gcp:projects/service:Service": {
    deploy: [onProject("roles/serviceusage.serviceUsageAdmin")],
    preview: [onProject("roles/serviceusage.serviceUsageViewer")],
  },
  "gcp:bigquery/dataset:Dataset": BIGQUERY,
  "gcp:bigquery/table:Table": BIGQUERY,
  "gcp:bigquery/datasetIamMember:DatasetIamMember": BIGQUERY,
  "gcp:serviceaccount/account:Account": {
    deploy: [onProject("roles/iam.serviceAccountAdmin")],
    preview: [onProject("roles/iam.serviceAccountViewer")],
  },
  "gcp:serviceaccount/key:Key": {
    deploy: [onProject("roles/iam.serviceAccountKeyAdmin")],
    preview: [onProject("roles/iam.serviceAccountViewer")],
  },
  // Project IAM members: the grant is narrowed below to the roles the program grants.
  "gcp:projects/iAMMember:IAMMember": {
    deploy: [onProject("roles/resourcemanager.projectIamAdmin")],
    preview: [onProject("roles/iam.securityReviewer")],
  },
  "gcp:sql/databaseInstance:DatabaseInstance": CLOUD_SQL,
  "gcp:sql/user:User": CLOUD_SQL,
  "gcp:redis/instance:Instance": {
    deploy: [onProject("roles/redis.admin")],
    preview: [onProject("roles/redis.viewer")],
  },
  "gcp:compute/network:Network": {
    deploy: [onProject("roles/compute.networkAdmin")],
    preview: [onProject("roles/compute.networkViewer")],
  },
  "gcp:organizations/project:Project": {
    deploy: [
      { role: "roles/resourcemanager.projectCreator", scope: "parent folder or organization" },
      { role: "roles/billing.user", scope: "billing account" },
    ],
    preview: [{ role: "roles/browser", scope: "parent folder or organization" }],
  },
};

/** Every identity reads the project it works in (resourcemanager.projects.get). */
const ALWAYS: readonly GcpRoleGrant[] = [onProject("roles/browser")];

export class UnknownResourceTypeError extends Error {
  constructor(readonly types: readonly string[]) {
    super(
      `no CI requirement known for resource type ${types.join(", ")}: add what its provider needs to src/ci/gcp-roles.ts or src/ci/stack-requirements.ts (and the workflows)`,
    );
    this.name = "UnknownResourceTypeError";
  }
}

function grantKey(grant: GcpRoleGrant): string {
  return `${grant.scope}|${grant.role}|${grant.condition ?? ""}`;
}

function sortedGrants(grants: Iterable<GcpRoleGrant>): GcpRoleGrant[] {
  const unique = new Map<string, GcpRoleGrant>();
  for (const grant of grants) unique.set(grantKey(grant), grant);
  return [...unique.values()].sort((a, b) => grantKey(a).localeCompare(grantKey(b)));
}

/**
 * `roles/resourcemanager.projectIamAdmin` may grant anything, owner included; the condition limits
 * what it may grant or revoke to the roles the program's project IAM members hold.
 */
export function grantableRolesCondition(roles: readonly string[]): string {
  const list = [...new Set(roles)]
    .sort()
    .map((role) => `'${role}'`)
    .join(", ");
  return `api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly([${list}])`;
}

export interface GcpRoles {
  readonly deploy: readonly GcpRoleGrant[];
  readonly preview: readonly GcpRoleGrant[];
}

/** The roles for the GCP resources of `plan`; throws naming every GCP type it does not know. */
export function gcpRolesFor(plan: Plan): GcpRoles {
  const gcp = plan.resources.filter((resource) => resource.type.startsWith("gcp:"));
  const unknown = [...new Set(gcp.map((r) => r.type).filter((t) => !(t in ROLES_BY_TYPE)))];
  if (unknown.length > 0) throw new UnknownResourceTypeError(unknown.sort());
  const granted = gcp
    .filter((resource) => resource.type === "gcp:projects/iAMMember:IAMMember")
    .map((resource) => String(resource.inputs.role));
  const deploy: GcpRoleGrant[] = [...ALWAYS];
  const preview: GcpRoleGrant[] = [...ALWAYS];
  for (const resource of gcp) {
    const roles = ROLES_BY_TYPE[resource.type]!;
    for (const grant of roles.deploy) {
      deploy.push(
        grant.role === "roles/resourcemanager.projectIamAdmin"
          ? { ...grant, condition: grantableRolesCondition(granted) }
          : grant,
      );
    }
    preview.push(...roles.preview);
  }
  return { deploy: sortedGrants(deploy), preview: sortedGrants(preview) };
}
