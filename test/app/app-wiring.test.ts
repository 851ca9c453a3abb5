/**
 * The app's environment: always `appEnv` (secret), and Railway variables only when configured.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  fakeKeyFile,
  installHostingMocks,
  isSecretInput,
  recorded,
  resetRecorded,
  settle,
  valueOf,
} from "../hosting/pulumi-mocks";
import { createAppCredentials, createAppWiring } from "../../infra/app";
import {
  AppWiring,
  renderAppEnvironment,
  type RailwayVariablesWriter,
} from "../../infra/app/app-wiring";
import { parseHostingConfig } from "../../infra/hosting/config-schema";

beforeAll(installHostingMocks);

const common = {
  postgresUrl: pulumi.secret("postgresql://synter_app:pw@postgres.railway.internal:5432/synter"),
  redisUrl: pulumi.secret("redis://default:pw@redis.railway.internal:6379"),
  bigqueryProjectId: pulumi.output("synter-dev"),
  bigqueryDataset: pulumi.output("synter_analytics"),
};

const credentials = {
  api: pulumi.secret({ GOOGLE_CREDENTIALS_JSON: '{"client_email":"api"}' }),
  workers: pulumi.secret({ GOOGLE_CREDENTIALS_JSON: '{"client_email":"workers"}' }),
};

interface Written {
  readonly name: string;
  readonly projectId: string;
  readonly environmentId: string;
  readonly serviceId: string;
  readonly variables: pulumi.Output<Record<string, string>>;
}

class RecordedVariables extends pulumi.CustomResource {
  constructor(name: string, opts: pulumi.CustomResourceOptions) {
    super("test:railway:Variables", name, {}, opts);
  }
}

/** A writer that records what it was asked to write, as a real (mocked) custom resource. */
function recordingWriter(into: Written[]): RailwayVariablesWriter {
  return (name, target, opts) => {
    into.push({ name, ...target });
    return new RecordedVariables(name, opts);
  };
}

describe("renderAppEnvironment", () => {
  it("lists exactly the contract's variables", () => {
    expect(
      renderAppEnvironment(
        {
          postgresUrl: "pg",
          redisUrl: "redis",
          bigqueryProjectId: "proj",
          bigqueryDataset: "ds",
          redisCaCertificate: "CA",
        },
        { GOOGLE_CREDENTIALS_JSON: "{}" },
      ),
    ).toEqual({
      POSTGRES_URL: "pg",
      REDIS_URL: "redis",
      BIGQUERY_PROJECT_ID: "proj",
      BIGQUERY_DATASET: "ds",
      REDIS_CA_CERT: "CA",
      GOOGLE_CREDENTIALS_JSON: "{}",
    });
  });

  it("gives POSTGRES_URL the node-pg form, in which sslmode=require means libpq's", () => {
    const env = renderAppEnvironment(
      {
        postgresUrl:
          "postgresql://synter_app:pw@postgres.railway.internal:5432/synter?sslmode=require",
        redisUrl: "redis",
        bigqueryProjectId: "proj",
        bigqueryDataset: "ds",
      },
      {},
    );
    expect(env.POSTGRES_URL).toBe(
      "postgresql://synter_app:pw@postgres.railway.internal:5432/synter?sslmode=require&uselibpqcompat=true",
    );
  });

  it("refuses key material in GOOGLE_APPLICATION_CREDENTIALS", () => {
    expect(() =>
      renderAppEnvironment(
        { postgresUrl: "pg", redisUrl: "r", bigqueryProjectId: "p", bigqueryDataset: "d" },
        { GOOGLE_APPLICATION_CREDENTIALS: "eyJ0eXBlIjo" },
      ),
    ).toThrow("GOOGLE_APPLICATION_CREDENTIALS is a file path, never key material");
  });
});

describe("AppWiring", () => {
  it("always exports appEnv as a secret and writes nothing without Railway ids", async () => {
    resetRecorded();
    const written: Written[] = [];
    const wiring = new AppWiring("app", {
      ...common,
      credentials,
      config: parseHostingConfig({}).app,
      writeRailwayVariables: recordingWriter(written),
    });
    await settle(wiring.appEnv);
    expect(await valueOf(wiring.appEnv)).toEqual({
      POSTGRES_URL: "postgresql://synter_app:pw@postgres.railway.internal:5432/synter",
      REDIS_URL: "redis://default:pw@redis.railway.internal:6379",
      BIGQUERY_PROJECT_ID: "synter-dev",
      BIGQUERY_DATASET: "synter_analytics",
      GOOGLE_CREDENTIALS_JSON: '{"client_email":"workers"}',
    });
    expect(await pulumi.isSecret(wiring.appEnv)).toBe(true);
    expect(await pulumi.isSecret(wiring.serviceEnv.api)).toBe(true);
    expect(written).toEqual([]);
    expect(recorded.map((resource) => resource.type)).toEqual(["synter:app:AppWiring"]);
  });

  it("stays secret even when no input is (app on GCP, plain URLs)", async () => {
    const wiring = new AppWiring("plain", {
      postgresUrl: "postgresql://u:p@h/db",
      redisUrl: "redis://:p@h",
      bigqueryProjectId: "p",
      bigqueryDataset: "d",
      credentials: { api: {}, workers: {} },
      config: {},
    });
    expect(await valueOf(wiring.appEnv)).toEqual({
      POSTGRES_URL: "postgresql://u:p@h/db",
      REDIS_URL: "redis://:p@h",
      BIGQUERY_PROJECT_ID: "p",
      BIGQUERY_DATASET: "d",
    });
    expect(await pulumi.isSecret(wiring.appEnv)).toBe(true);
  });

  it("writes each service's own environment into its Railway service", async () => {
    resetRecorded();
    const written: Written[] = [];
    const config = parseHostingConfig({
      app: {
        railway: {
          projectId: "proj-1",
          environmentId: "env-1",
          apiServiceId: "svc-api",
          workerServiceId: "svc-workers",
        },
      },
    }).app;
    const wiring = new AppWiring("app", {
      ...common,
      credentials,
      config,
      writeRailwayVariables: recordingWriter(written),
    });
    await settle(wiring.appEnv);
    expect(written.map(({ variables: _variables, ...target }) => target)).toEqual([
      {
        name: "app-api-variables",
        projectId: "proj-1",
        environmentId: "env-1",
        serviceId: "svc-api",
      },
      {
        name: "app-workers-variables",
        projectId: "proj-1",
        environmentId: "env-1",
        serviceId: "svc-workers",
      },
    ]);
    expect((await valueOf(written[0]!.variables)).GOOGLE_CREDENTIALS_JSON).toBe(
      '{"client_email":"api"}',
    );
    expect((await valueOf(written[1]!.variables)).GOOGLE_CREDENTIALS_JSON).toBe(
      '{"client_email":"workers"}',
    );
    expect(await pulumi.isSecret(written[0]!.variables)).toBe(true);
    expect(Object.keys(wiring.railwayVariables)).toEqual(["api", "workers"]);
  });

  it("fails clearly when Railway ids are set but no writer is given", () => {
    const config = parseHostingConfig({
      app: {
        railway: { projectId: "p", environmentId: "e", apiServiceId: "a", workerServiceId: "w" },
      },
    }).app;
    expect(() => new AppWiring("x", { ...common, credentials, config })).toThrow(
      "app.railway is set but no Railway variables writer was given",
    );
  });
});

describe("createAppWiring with Railway's variables resource", () => {
  it("writes one RailwayVariables per service, values secret, and appEnv always", async () => {
    resetRecorded();
    const config = parseHostingConfig({
      credentials: { rotationDays: 30 },
      app: {
        railway: {
          projectId: "proj-1",
          environmentId: "env-1",
          apiServiceId: "svc-api",
          workerServiceId: "svc-workers",
        },
      },
    });
    const credentialsResource = createAppCredentials(
      "app",
      config.credentials,
      {
        api: "api@synter-dev.iam.gserviceaccount.com",
        workers: "w@synter-dev.iam.gserviceaccount.com",
      },
      new Date("2026-01-31T08:00:00Z"),
    );
    const wiring = createAppWiring("app", config.app, common, credentialsResource);
    await settle(wiring.appEnv);
    const variables = recorded.filter(
      (resource) => resource.type === "pulumi-nodejs:dynamic/railway:RailwayVariables",
    );
    expect(variables.map((resource) => resource.name)).toEqual([
      "app-api-variables",
      "app-workers-variables",
    ]);
    for (const resource of variables) {
      expect(resource.inputs.projectId).toBe("proj-1");
      expect(resource.inputs.environmentId).toBe("env-1");
      expect(isSecretInput(resource.inputs.variables)).toBe(true);
    }
    expect(variables.map((resource) => resource.inputs.serviceId)).toEqual([
      "svc-api",
      "svc-workers",
    ]);
    const workersValue = (variables[1]!.inputs.variables as { value: Record<string, string> })
      .value;
    expect(Object.keys(workersValue).sort()).toEqual([
      "BIGQUERY_DATASET",
      "BIGQUERY_PROJECT_ID",
      "GOOGLE_CREDENTIALS_JSON",
      "POSTGRES_URL",
      "REDIS_URL",
    ]);
    expect(workersValue.GOOGLE_CREDENTIALS_JSON).toBe(fakeKeyFile("app-workers-key-b"));
    expect(await pulumi.isSecret(wiring.appEnv)).toBe(true);
  });
});
