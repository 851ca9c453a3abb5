/**
 * `synter:app:AppWiring`: the environment variables the API and the workers read (DESIGN §5),
 * always available as the `appEnv` stack output, and — when the app's Railway ids are configured —
 * written into the two Railway services as variables, so a deploy is one `pulumi up`.
 *
 * `appEnv` is the workers' environment (the API's differs only in whose credentials it carries);
 * it is a secret as a whole because POSTGRES_URL, REDIS_URL and the key JSON are.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AppService } from "../credentials/app-credentials";
import type { AppConfig } from "../hosting/config-schema";
import { nodePgConnectionUrl } from "../postgres/connection-url";

export interface AppEnvironmentInputs {
  /** The app role's URL (AuthDatabase.appUrl), libpq form; POSTGRES_URL gets its node-pg form. */
  readonly postgresUrl: pulumi.Input<string>;
  readonly redisUrl: pulumi.Input<string>;
  /** Only for a Redis whose certificate a public CA did not sign (Memorystore). */
  readonly redisCaCertificate?: pulumi.Input<string>;
  readonly bigqueryProjectId: pulumi.Input<string>;
  readonly bigqueryDataset: pulumi.Input<string>;
}

/** Pure: the variables one service reads, given its credential variables. */
export function renderAppEnvironment(
  inputs: {
    readonly postgresUrl: string;
    readonly redisUrl: string;
    readonly redisCaCertificate?: string;
    readonly bigqueryProjectId: string;
    readonly bigqueryDataset: string;
  },
  credentials: Readonly<Record<string, string>>,
): Record<string, string> {
  const env: Record<string, string> = {
    // The app hands it to node-pg's default parser: the form in which `require` means libpq's.
    POSTGRES_URL: nodePgConnectionUrl(inputs.postgresUrl),
    REDIS_URL: inputs.redisUrl,
    BIGQUERY_PROJECT_ID: inputs.bigqueryProjectId,
    BIGQUERY_DATASET: inputs.bigqueryDataset,
  };
  if (inputs.redisCaCertificate !== undefined) env.REDIS_CA_CERT = inputs.redisCaCertificate;
  for (const [key, value] of Object.entries(credentials)) {
    if (key === "GOOGLE_APPLICATION_CREDENTIALS") {
      // Client libraries read this variable as a file path; key material there breaks them.
      throw new Error("GOOGLE_APPLICATION_CREDENTIALS is a file path, never key material");
    }
    env[key] = value;
  }
  return env;
}

/** Writes one service's variables on Railway; infra/app/railway-variables.ts provides it. */
export type RailwayVariablesWriter = (
  name: string,
  target: {
    readonly projectId: string;
    readonly environmentId: string;
    readonly serviceId: string;
    readonly variables: pulumi.Output<Record<string, string>>;
  },
  opts: pulumi.CustomResourceOptions,
) => pulumi.Resource;

export interface AppWiringArgs extends AppEnvironmentInputs {
  /** Credential variables per service (AppCredentials.env): empty when the app runs on GCP. */
  readonly credentials: Readonly<Record<AppService, pulumi.Input<Record<string, string>>>>;
  readonly config: AppConfig;
  /** Required when `config.railway` is set. */
  readonly writeRailwayVariables?: RailwayVariablesWriter;
}

export class AppWiring extends pulumi.ComponentResource {
  /** The workers' environment: the `appEnv` stack output. Secret. */
  readonly appEnv: pulumi.Output<Record<string, string>>;
  readonly serviceEnv: Readonly<Record<AppService, pulumi.Output<Record<string, string>>>>;
  /** The Railway variable resources, by service; empty without `app.railway`. */
  readonly railwayVariables: Partial<Record<AppService, pulumi.Resource>>;

  constructor(name: string, args: AppWiringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("synter:app:AppWiring", name, {}, opts);
    const common = pulumi.output({
      postgresUrl: args.postgresUrl,
      redisUrl: args.redisUrl,
      redisCaCertificate: args.redisCaCertificate,
      bigqueryProjectId: args.bigqueryProjectId,
      bigqueryDataset: args.bigqueryDataset,
    });
    const envFor = (service: AppService) =>
      pulumi.secret(
        pulumi
          .all([common, args.credentials[service]])
          .apply(([inputs, credentials]) => renderAppEnvironment(inputs, credentials)),
      );
    this.serviceEnv = { api: envFor("api"), workers: envFor("workers") };
    this.appEnv = this.serviceEnv.workers;

    this.railwayVariables = {};
    const railway = args.config.railway;
    if (railway !== undefined) {
      const { projectId, environmentId, apiServiceId, workerServiceId } = railway;
      if (
        projectId === undefined ||
        environmentId === undefined ||
        apiServiceId === undefined ||
        workerServiceId === undefined
      ) {
        throw new Error(
          "app.railway: needs projectId, environmentId, apiServiceId and workerServiceId",
        );
      }
      if (args.writeRailwayVariables === undefined) {
        throw new Error("app.railway is set but no Railway variables writer was given");
      }
      const serviceIds: Record<AppService, string> = {
        api: apiServiceId,
        workers: workerServiceId,
      };
      for (const service of ["api", "workers"] as const) {
        this.railwayVariables[service] = args.writeRailwayVariables(
          `${name}-${service}-variables`,
          {
            projectId,
            environmentId,
            serviceId: serviceIds[service],
            variables: this.serviceEnv[service],
          },
          { parent: this },
        );
      }
    }
    this.registerOutputs({ appEnv: this.appEnv });
  }
}
