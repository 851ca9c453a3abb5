/**
 * The GCP project of a stack: the configured one, or a new one (billing account, folder or
 * organization) when the stack asks for it; and the APIs the platform needs, enabled in it.
 *
 * Enabling an API is eventually consistent, so every resource that needs an API depends on its
 * `gcp.projects.Service` (see `apis`). APIs are never disabled on destroy: another stack (a PR
 * stack in the dev project) or something outside Pulumi may still use them.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";

/** The APIs the core platform needs, keyed by a short name used in resource names. */
export const CORE_APIS = {
  bigquery: "bigquery.googleapis.com",
  iam: "iam.googleapis.com",
  iamcredentials: "iamcredentials.googleapis.com",
  cloudresourcemanager: "cloudresourcemanager.googleapis.com",
  serviceusage: "serviceusage.googleapis.com",
} as const;

export type CoreApi = keyof typeof CORE_APIS;

export interface NewProjectArgs {
  /** Display name of the project. */
  readonly name: string;
  readonly billingAccount: string;
  /** Exactly one of folderId and orgId. */
  readonly folderId?: string;
  readonly orgId?: string;
}

export interface GcpProjectArgs {
  readonly projectId: string;
  /** When set, the project is created; otherwise it must already exist. */
  readonly create?: NewProjectArgs;
  /** Further APIs (short name → service), e.g. `sqladmin` for Cloud SQL hosting. */
  readonly extraApis?: Readonly<Record<string, string>>;
  /** Labels of a created project. */
  readonly labels: Readonly<Record<string, string>>;
  /** Staging/prod: Pulumi `protect` and the provider's deletion policy PREVENT on a new project. */
  readonly protect: boolean;
}

/** Every problem of the arguments, so a caller sees them all at once. */
export function validateGcpProjectArgs(args: GcpProjectArgs): string[] {
  const problems: string[] = [];
  if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(args.projectId)) {
    problems.push(`projectId "${args.projectId}" is not a GCP project id`);
  }
  if (args.create && (args.create.folderId === undefined) === (args.create.orgId === undefined)) {
    problems.push("a new project needs exactly one of folderId and orgId");
  }
  for (const [key, service] of Object.entries(args.extraApis ?? {})) {
    if (Object.hasOwn(CORE_APIS, key)) problems.push(`extra API ${key} is already a core API`);
    if (!/^[a-z0-9-]+\.googleapis\.com$/.test(service)) {
      problems.push(`extra API ${key}: "${service}" is not a *.googleapis.com service`);
    }
  }
  return problems;
}

export class GcpProject extends pulumi.ComponentResource {
  /** The project id as an output: depending on it waits for a created project. */
  readonly projectId: pulumi.Output<string>;
  /** The project resource when this stack creates it. */
  readonly project?: gcp.organizations.Project;
  /** Enabled APIs by short name. */
  readonly apis: Readonly<Record<string, gcp.projects.Service>>;

  constructor(name: string, args: GcpProjectArgs, opts?: pulumi.ComponentResourceOptions) {
    super("synter:project:GcpProject", name, {}, opts);
    const problems = validateGcpProjectArgs(args);
    if (problems.length > 0) {
      throw new pulumi.ResourceError(`invalid project ${name}: ${problems.join("; ")}`, this);
    }

    if (args.create) {
      this.project = new gcp.organizations.Project(
        `${name}-project`,
        {
          projectId: args.projectId,
          name: args.create.name,
          billingAccount: args.create.billingAccount,
          ...(args.create.folderId !== undefined
            ? { folderId: args.create.folderId }
            : { orgId: args.create.orgId }),
          labels: { ...args.labels },
          // The default network is unused and opens firewall rules nobody reviews.
          autoCreateNetwork: false,
          // ABANDON: destroying a dev stack leaves the project (and anything else in it) alone.
          deletionPolicy: args.protect ? "PREVENT" : "ABANDON",
        },
        { parent: this, protect: args.protect },
      );
      this.projectId = this.project.projectId;
    } else {
      this.projectId = pulumi.output(args.projectId);
    }

    const services: Record<string, string> = { ...CORE_APIS, ...args.extraApis };
    const apis: Record<string, gcp.projects.Service> = {};
    for (const [key, service] of Object.entries(services)) {
      apis[key] = new gcp.projects.Service(
        `${name}-${key}-api`,
        {
          project: this.projectId,
          service,
          disableOnDestroy: false,
          disableDependentServices: false,
        },
        { parent: this },
      );
    }
    this.apis = apis;

    this.registerOutputs({ projectId: this.projectId });
  }

  /** The service resource of a core API. */
  api(key: CoreApi): gcp.projects.Service {
    return this.apis[key];
  }
}
