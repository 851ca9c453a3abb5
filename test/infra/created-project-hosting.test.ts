/**
 * Cloud SQL and Memorystore in a project the stack creates: their APIs are enabled in that project
 * only once it exists (the graph orders them after it), and Memorystore peers with a VPC network
 * the stack creates, since a created project has no `default` network (`autoCreateNetwork: false`).
 */
import { ConfigError } from "../../infra/config";
import { resourceNamed, type RecordedResource } from "../support/pulumi-harness";
import { buildStack } from "./stack-run";

const T = {
  project: "gcp:organizations/project:Project",
  service: "gcp:projects/service:Service",
  network: "gcp:compute/network:Network",
  sql: "gcp:sql/databaseInstance:DatabaseInstance",
  sqlUser: "gcp:sql/user:User",
  redis: "gcp:redis/instance:Instance",
};

function gcpHosting(options: { createProject: boolean; memorystore?: Record<string, unknown> }) {
  return (values: Record<string, string>) => {
    if (options.createProject) {
      const gcp = JSON.parse(values["synter-platform:gcp"]) as Record<string, unknown>;
      gcp.createProject = { billingAccount: "0123AB-4567CD-89EF01", folderId: "123456789" };
      values["synter-platform:gcp"] = JSON.stringify(gcp);
    }
    values["synter-platform:postgres"] = JSON.stringify({ hosting: "cloudsql" });
    values["synter-platform:redis"] = JSON.stringify({
      hosting: "memorystore",
      ...(options.memorystore && { memorystore: options.memorystore }),
    });
  };
}

describe("a stack that creates its project, with Cloud SQL and Memorystore", () => {
  let resources: readonly RecordedResource[];
  const get = (type: string, name: string) => resourceNamed(resources, type, name);
  beforeAll(async () => {
    ({ resources } = await buildStack("dev", gcpHosting({ createProject: true })));
  });

  test("enables the Cloud SQL, Redis and Compute APIs only once the project exists", () => {
    const project = get(T.project, "gcp-project").urn;
    for (const name of [
      "data-postgres-sqladmin",
      "data-redis-redis-api",
      "data-redis-compute-api",
    ]) {
      const service = get(T.service, name);
      expect([name, service.dependencies]).toEqual([name, expect.arrayContaining([project])]);
      expect(service.inputs).toEqual({
        project: "synter-dev",
        service: {
          "data-postgres-sqladmin": "sqladmin.googleapis.com",
          "data-redis-redis-api": "redis.googleapis.com",
          "data-redis-compute-api": "compute.googleapis.com",
        }[name],
        disableOnDestroy: false,
      });
    }
  });

  test("every Cloud SQL and Memorystore resource waits for the project and its API", () => {
    const project = get(T.project, "gcp-project").urn;
    const sqlApi = get(T.service, "data-postgres-sqladmin").urn;
    const redisApi = get(T.service, "data-redis-redis-api").urn;
    expect(get(T.sql, "data-postgres").dependencies).toEqual(
      expect.arrayContaining([project, sqlApi]),
    );
    expect(get(T.sqlUser, "data-postgres-admin").dependencies).toEqual(
      expect.arrayContaining([project, get(T.sql, "data-postgres").urn]),
    );
    expect(get(T.redis, "data-redis").dependencies).toEqual(
      expect.arrayContaining([project, redisApi, get(T.network, "data-redis-network").urn]),
    );
  });

  test("creates a VPC network for Memorystore to peer with, after the Compute API", () => {
    const network = get(T.network, "data-redis-network");
    expect(network.inputs).toEqual({
      project: "synter-dev",
      name: "synter-dev-redis",
      description: "Memorystore (data-redis) peers with this network; clients need a subnet in it.",
      autoCreateSubnetworks: false,
    });
    expect(network.dependencies).toEqual(
      expect.arrayContaining([
        get(T.project, "gcp-project").urn,
        get(T.service, "data-redis-compute-api").urn,
      ]),
    );
    expect(network.protect).toBe(false);
    expect(get(T.redis, "data-redis").inputs.authorizedNetwork).toBe("data-redis-network-id");
  });
});

test("in an existing project Memorystore keeps the configured or default network", async () => {
  const existing = await buildStack("dev", gcpHosting({ createProject: false }));
  expect(existing.resources.filter((r) => r.type === T.network)).toEqual([]);
  expect(existing.resources.filter((r) => r.name === "data-redis-compute-api")).toEqual([]);
  expect(resourceNamed(existing.resources, T.redis, "data-redis").inputs).not.toHaveProperty(
    "authorizedNetwork",
  );
  const configured = await buildStack(
    "dev",
    gcpHosting({
      createProject: true,
      memorystore: { authorizedNetwork: "projects/synter-dev/global/networks/app" },
    }),
  );
  expect(configured.resources.filter((r) => r.type === T.network)).toEqual([]);
  expect(resourceNamed(configured.resources, T.redis, "data-redis").inputs.authorizedNetwork).toBe(
    "projects/synter-dev/global/networks/app",
  );
});

test("private services access in a created project needs a configured network", async () => {
  const build = buildStack(
    "dev",
    gcpHosting({ createProject: true, memorystore: { connectMode: "PRIVATE_SERVICE_ACCESS" } }),
  );
  await expect(build).rejects.toThrow(ConfigError);
  await expect(build).rejects.toThrow(
    "synter-platform:redis.memorystore.authorizedNetwork: required with connectMode PRIVATE_SERVICE_ACCESS when the stack creates its project (gcp.createProject): name a network that has private services access set up",
  );
});
