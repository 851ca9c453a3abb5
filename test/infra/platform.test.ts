/**
 * The resource graph of every stack, built under Pulumi's mock runtime from the stack files:
 * exact resources, schema, partitioning, clustering, protection, IAM and API dependencies.
 */
import { analyticsTableList } from "../../schema/analytics";
import { bigQuerySchemaJson } from "../../schema/generate/bigquery-schema";
import { analyticsViewOrder, analyticsViews, renderViewSql } from "../../schema/views";
import { resourceNamed, type RecordedResource } from "../support/pulumi-harness";
import { buildStack, DEV_STACK_OUTPUTS, type BuiltStack } from "./stack-run";

const T = {
  project: "synter:project:GcpProject",
  warehouse: "synter:bigquery:Warehouse",
  identity: "synter:identity:ServiceAccounts",
  service: "gcp:projects/service:Service",
  newProject: "gcp:organizations/project:Project",
  dataset: "gcp:bigquery/dataset:Dataset",
  table: "gcp:bigquery/table:Table",
  account: "gcp:serviceaccount/account:Account",
  datasetMember: "gcp:bigquery/datasetIamMember:DatasetIamMember",
  projectMember: "gcp:projects/iAMMember:IAMMember",
  stackReference: "pulumi:pulumi:StackReference",
};

interface Expected {
  readonly projectId: string;
  readonly datasetId: string;
  readonly protect: boolean;
  readonly partitionFiltered: readonly string[];
  readonly accountSuffix: string;
  readonly environment: string;
}

const expectations: Record<string, Expected> = {
  dev: {
    projectId: "synter-dev",
    datasetId: "synter_analytics",
    protect: false,
    partitionFiltered: [],
    accountSuffix: "",
    environment: "dev",
  },
  staging: {
    projectId: "synter-staging",
    datasetId: "synter_analytics",
    protect: true,
    partitionFiltered: [],
    accountSuffix: "",
    environment: "staging",
  },
  prod: {
    projectId: "synter-prod",
    datasetId: "synter_analytics",
    protect: true,
    partitionFiltered: ["events"],
    accountSuffix: "",
    environment: "prod",
  },
  "pr-42": {
    projectId: "synter-dev",
    datasetId: "synter_analytics_pr_42",
    protect: false,
    partitionFiltered: [],
    accountSuffix: "-pr-42",
    environment: "pr",
  },
};

const TABLES = ["events", "ad_metrics", "conversions", "touchpoints", "agent_runs"];
const VIEWS = [
  "fact_attribution_last_touch",
  "fact_attribution_first_touch",
  "fact_attribution_linear",
  "campaign_performance_daily",
];
const APIS = ["bigquery", "iam", "iamcredentials", "cloudresourcemanager", "serviceusage"];

function expectedResourceNames(stack: string): string[] {
  const names = [
    `${T.project} gcp`,
    `${T.warehouse} warehouse`,
    `${T.identity} identity`,
    ...APIS.map((api) => `${T.service} gcp-${api}-api`),
    `${T.dataset} warehouse-dataset`,
    ...[...TABLES, ...VIEWS].map((id) => `${T.table} warehouse-${id}`),
    `${T.account} identity-api`,
    `${T.account} identity-workers`,
    `${T.datasetMember} identity-api-dataset-bigquery-dataviewer`,
    `${T.datasetMember} identity-workers-dataset-bigquery-dataeditor`,
    `${T.projectMember} identity-api-project-bigquery-jobuser`,
    `${T.projectMember} identity-workers-project-bigquery-jobuser`,
  ];
  // Postgres database, roles and grants (infra/postgres), in every stack.
  names.push(
    "synter:postgres:AuthDatabase auth",
    "pulumi:providers:postgresql auth-admin",
    // The admin joins the migrator role, so its grants hold on the migrator's objects.
    "postgresql:index/grantRole:GrantRole auth-admin-in-migrator",
    "postgresql:index/database:Database auth-database",
    ...["app", "migrator", "readonly"].flatMap((role) => [
      `postgresql:index/role:Role auth-${role}`,
      `random:index/randomPassword:RandomPassword auth-${role}-password`,
    ]),
    ...["database-app", "database-public", "database-readonly", "schema-app", "schema-migrator"]
      .concat([
        "schema-public",
        "schema-readonly",
        "sequences-app",
        "tables-app",
        "tables-readonly",
      ])
      .map((grant) => `postgresql:index/grant:Grant auth-${grant}`),
    ...["defaultSequences-app", "defaultTables-app", "defaultTables-readonly"].map(
      (d) => `postgresql:index/defaultPrivileges:DefaultPrivileges auth-${d}`,
    ),
    "pulumi-nodejs:dynamic/synter:SchemaMigrations auth-migrations",
    // The app runs outside GCP by default: two rotating key slots per service account.
    "synter:credentials:AppCredentials app-credentials",
    "pulumi-nodejs:dynamic/synter:KeyRotation app-credentials-rotation",
    ...["api", "workers"].flatMap((sa) =>
      ["a", "b"].map((slot) => `gcp:serviceaccount/key:Key app-credentials-${sa}-key-${slot}`),
    ),
    "synter:app:AppWiring app",
  );
  if (stack.startsWith("pr-")) {
    names.push(`${T.stackReference} dev-stack`);
  } else {
    // Railway hosting (the default): one project, Postgres with a TCP proxy, Redis.
    names.push(
      "pulumi-nodejs:dynamic/railway:RailwayProject data-railway",
      "synter:hosting:RailwayPostgresServer data-postgres",
      "pulumi-nodejs:dynamic/railway:RailwayPostgres data-postgres",
      "pulumi-nodejs:dynamic/railway:RailwayTcpProxy data-postgres-proxy",
      "random:index/randomPassword:RandomPassword data-postgres-password",
      "synter:hosting:RailwayRedisServer data-redis",
      "pulumi-nodejs:dynamic/railway:RailwayRedis data-redis",
      "random:index/randomPassword:RandomPassword data-redis-password",
    );
  }
  return names.sort();
}

const urnOf = (resources: readonly RecordedResource[], type: string, name: string) =>
  resourceNamed(resources, type, name).urn;

describe.each(Object.keys(expectations))("stack %s", (stack) => {
  const expected = expectations[stack];
  let built: BuiltStack;
  let resources: readonly RecordedResource[];
  beforeAll(async () => {
    built = await buildStack(stack);
    resources = built.resources;
  });
  const get = (type: string, name: string) => resourceNamed(resources, type, name);

  test("creates exactly the expected resources", () => {
    expect(resources.map((r) => `${r.type} ${r.name}`).sort()).toEqual(
      expectedResourceNames(stack),
    );
  });

  test("exports the outputs of DESIGN §5, the app's secrets as secrets", () => {
    const pr = stack.startsWith("pr-");
    const database = pr ? `synter_pr_42` : "synter";
    const postgresUrl = pr
      ? "postgresql://synter_pr_42_app:pw-auth-app-password@postgres.railway.internal:5432/synter_pr_42?sslmode=require"
      : `postgresql://synter_app:pw-auth-app-password@postgres.railway.internal:5432/${database}?sslmode=require`;
    const redisUrl = pr
      ? DEV_STACK_OUTPUTS.redisUrl
      : "redis://default:pw-data-redis-password@redis.railway.internal:6379";
    const devExports =
      stack === "dev"
        ? {
            postgresAdminHost: "shuttle.proxy.rlwy.net",
            postgresAdminPort: 41234,
            postgresAdminUser: "postgres",
            postgresAdminPassword: "pw-data-postgres-password",
            postgresAppHost: "postgres.railway.internal",
            postgresAppPort: 5432,
            postgresSslMode: "require",
            redisHost: "redis.railway.internal",
            redisPort: 6379,
          }
        : {};
    expect(built.outputs).toEqual({
      bigqueryProjectId: expected.projectId,
      bigqueryDataset: expected.datasetId,
      bigqueryLocation: "US",
      apiServiceAccountEmail: `synter-api${expected.accountSuffix}@${expected.projectId}.iam.gserviceaccount.com`,
      workersServiceAccountEmail: `synter-workers${expected.accountSuffix}@${expected.projectId}.iam.gserviceaccount.com`,
      postgresUrl,
      redisUrl,
      appEnv: {
        // The app hands it to node-pg's parser: the node-pg form (infra/postgres/connection-url.ts).
        POSTGRES_URL: `${postgresUrl}&uselibpqcompat=true`,
        REDIS_URL: redisUrl,
        BIGQUERY_PROJECT_ID: expected.projectId,
        BIGQUERY_DATASET: expected.datasetId,
        GOOGLE_CREDENTIALS_JSON: expect.stringContaining('"type":"service_account"'),
      },
      ...devExports,
    });
    for (const name of [
      "postgresUrl",
      "redisUrl",
      "appEnv",
      ...(stack === "dev" ? ["postgresAdminPassword"] : []),
    ]) {
      expect(built.secretOutputs).toContain(name);
    }
  });

  test("enables the APIs without ever disabling them on destroy", () => {
    const services = resources.filter((r) => r.type === T.service);
    expect(services.map((s) => s.inputs.service).sort()).toEqual([
      "bigquery.googleapis.com",
      "cloudresourcemanager.googleapis.com",
      "iam.googleapis.com",
      "iamcredentials.googleapis.com",
      "serviceusage.googleapis.com",
    ]);
    for (const service of services) {
      expect(service.inputs).toMatchObject({
        project: expected.projectId,
        disableOnDestroy: false,
        disableDependentServices: false,
      });
      expect(service.parent).toBe(urnOf(resources, T.project, "gcp"));
    }
  });

  test("dataset: location, labels, no table expiration, destroyable only outside staging/prod", () => {
    const dataset = get(T.dataset, "warehouse-dataset");
    const inputs = { ...dataset.inputs };
    expect(inputs).toEqual({
      project: expected.projectId,
      datasetId: expected.datasetId,
      location: "US",
      description: expect.stringContaining(`(${stack})`),
      labels: {
        app: "synter",
        environment: expected.environment,
        stack,
        "managed-by": "pulumi",
        team: "data-platform",
        "cost-center": stack === "staging" || stack === "prod" ? `synter-${stack}` : "synter-dev",
        ...(stack.startsWith("pr-") && { "pull-request": "42" }),
      },
      deleteContentsOnDestroy: !expected.protect,
    });
    expect(inputs).not.toHaveProperty("accesses");
    expect(dataset.protect).toBe(expected.protect);
  });

  test.each(analyticsTableList.map((t) => [t.name, t] as const))(
    "table %s: generator schema, day partitioning, clustering, protection",
    (id, table) => {
      const resource = get(T.table, `warehouse-${id}`);
      expect(resource.inputs).toEqual({
        project: expected.projectId,
        datasetId: expected.datasetId,
        tableId: id,
        description: table.options.description,
        labels: get(T.dataset, "warehouse-dataset").inputs.labels,
        schema: bigQuerySchemaJson(table),
        timePartitioning: { type: "DAY", field: table.options.partitionBy },
        clusterings: [...table.options.clusterBy],
        requirePartitionFilter: expected.partitionFiltered.includes(id),
        deletionProtection: expected.protect,
      });
      expect(resource.protect).toBe(expected.protect);
      expect(resource.parent).toBe(urnOf(resources, T.warehouse, "warehouse"));
    },
  );

  test("views: standard SQL rendered for this stack, after the tables and views they read", () => {
    for (const name of analyticsViewOrder()) {
      const view = get(T.table, `warehouse-${name}`);
      expect(view.inputs).toEqual({
        project: expected.projectId,
        datasetId: expected.datasetId,
        tableId: name,
        description: analyticsViews[name].description,
        labels: get(T.dataset, "warehouse-dataset").inputs.labels,
        view: {
          query: renderViewSql(name, { project: expected.projectId, dataset: expected.datasetId }),
          useLegacySql: false,
        },
        deletionProtection: expected.protect,
      });
      expect(view.protect).toBe(expected.protect);
      for (const dependency of analyticsViews[name].dependsOn) {
        expect(view.dependencies).toContain(urnOf(resources, T.table, `warehouse-${dependency}`));
      }
    }
    // campaign_performance_daily reads a view: it really is ordered after it.
    expect(analyticsViews.campaign_performance_daily.dependsOn).toContain(
      "fact_attribution_last_touch",
    );
  });

  test("every BigQuery resource depends on the BigQuery API; IAM on the APIs it needs", () => {
    const bigqueryApi = urnOf(resources, T.service, "gcp-bigquery-api");
    const bigqueryResources = resources.filter((r) => r.type.startsWith("gcp:bigquery/"));
    expect(bigqueryResources).toHaveLength(1 + TABLES.length + VIEWS.length + 2);
    for (const resource of bigqueryResources) expect(resource.dependencies).toContain(bigqueryApi);
    for (const account of resources.filter((r) => r.type === T.account)) {
      expect(account.dependencies).toContain(urnOf(resources, T.service, "gcp-iam-api"));
    }
    for (const member of resources.filter((r) => r.type === T.projectMember)) {
      expect(member.dependencies).toContain(
        urnOf(resources, T.service, "gcp-cloudresourcemanager-api"),
      );
    }
  });

  test("IAM: exactly these additive members, nothing authoritative", () => {
    const email = (name: string) =>
      `serviceAccount:synter-${name}${expected.accountSuffix}@${expected.projectId}.iam.gserviceaccount.com`;
    const grants = resources
      .filter((r) => /iam/i.test(r.type))
      .map((r) => ({
        type: r.type,
        role: r.inputs.role,
        member: r.inputs.member,
        ...(r.inputs.datasetId !== undefined && { datasetId: r.inputs.datasetId }),
        project: r.inputs.project,
      }))
      .sort((a, b) => `${a.type}${a.member}`.localeCompare(`${b.type}${b.member}`));
    expect(grants).toEqual([
      {
        type: T.datasetMember,
        role: "roles/bigquery.dataViewer",
        member: email("api"),
        datasetId: expected.datasetId,
        project: expected.projectId,
      },
      {
        type: T.datasetMember,
        role: "roles/bigquery.dataEditor",
        member: email("workers"),
        datasetId: expected.datasetId,
        project: expected.projectId,
      },
      {
        type: T.projectMember,
        role: "roles/bigquery.jobUser",
        member: email("api"),
        project: expected.projectId,
      },
      {
        type: T.projectMember,
        role: "roles/bigquery.jobUser",
        member: email("workers"),
        project: expected.projectId,
      },
    ]);
    // The grants wait for the dataset they are on.
    for (const member of resources.filter((r) => r.type === T.datasetMember)) {
      expect(member.dependencies).toContain(urnOf(resources, T.dataset, "warehouse-dataset"));
    }
    expect(get(T.account, "identity-api").inputs).toEqual({
      project: expected.projectId,
      accountId: `synter-api${expected.accountSuffix}`,
      displayName: "Synter API",
    });
  });

  test("nothing but the data resources is protected", () => {
    const protectedNames = resources
      .filter((r) => r.protect)
      .map((r) => r.name)
      .sort();
    expect(protectedNames).toEqual(
      expected.protect
        ? [
            "warehouse-dataset",
            ...[...TABLES, ...VIEWS].map((id) => `warehouse-${id}`),
            // Postgres: the database and its roles; Railway: the project and both data services.
            "auth-database",
            "auth-admin-in-migrator",
            "auth-app",
            "auth-migrator",
            "auth-readonly",
            "data-railway",
            "data-postgres",
            "data-redis",
          ].sort()
        : [],
    );
  });
});

describe("pull request stacks", () => {
  test("reference the dev stack instead of creating servers", async () => {
    const { resources } = await buildStack("pr-7");
    const reference = resourceNamed(resources, T.stackReference, "dev-stack");
    expect(reference.read).toBe(true);
    expect(reference.urn).toContain("::dev-stack");
    // Its own database and roles on dev's server, but no server of its own.
    expect(resources.some((r) => /railway|sql\/|redis\//i.test(r.type))).toBe(false);
    expect(
      resourceNamed(resources, "postgresql:index/database:Database", "auth-database").inputs.name,
    ).toBe("synter_pr_7");
    expect(resourceNamed(resources, T.dataset, "warehouse-dataset").inputs.datasetId).toBe(
      "synter_analytics_pr_7",
    );
  });
});

describe("a stack that creates its project", () => {
  const createProject = (protect: boolean) => (values: Record<string, string>) => {
    const gcp = JSON.parse(values["synter-platform:gcp"]) as Record<string, unknown>;
    gcp.createProject = { billingAccount: "0123AB-4567CD-89EF01", folderId: "123456789" };
    values["synter-platform:gcp"] = JSON.stringify(gcp);
    values["synter-platform:protect"] = String(protect);
  };

  test("creates it in the folder, and every API waits for it", async () => {
    const { resources } = await buildStack("dev", createProject(false));
    const project = resourceNamed(resources, T.newProject, "gcp-project");
    expect(project.inputs).toEqual({
      projectId: "synter-dev",
      name: "synter-dev",
      billingAccount: "0123AB-4567CD-89EF01",
      folderId: "123456789",
      labels: expect.objectContaining({ environment: "dev" }),
      autoCreateNetwork: false,
      deletionPolicy: "ABANDON",
    });
    expect(project.protect).toBe(false);
    for (const service of resources.filter((r) => r.type === T.service)) {
      expect(service.dependencies).toContain(project.urn);
    }
  });

  test("in prod it is protected and cannot be deleted by the provider", async () => {
    const { resources } = await buildStack("prod", createProject(true));
    const project = resourceNamed(resources, T.newProject, "gcp-project");
    expect(project.protect).toBe(true);
    expect(project.inputs.deletionPolicy).toBe("PREVENT");
  });
});

test("the program builds twice in one process with identical results", async () => {
  const strip = (r: readonly RecordedResource[]) =>
    r.map((x) => ({ ...x })).sort((a, b) => a.urn.localeCompare(b.urn));
  const first = await buildStack("dev");
  const second = await buildStack("dev");
  expect(strip(second.resources)).toEqual(strip(first.resources));
  expect(second.outputs).toEqual(first.outputs);
});
