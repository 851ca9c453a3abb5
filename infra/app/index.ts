/**
 * Factories infra/platform.ts calls for the app: its credentials and its environment.
 */
import type * as pulumi from "@pulumi/pulumi";
import { AppCredentials, type AppService } from "../credentials";
import type { AppConfig, CredentialsConfig } from "../hosting/config-schema";
import { AppWiring, type AppEnvironmentInputs } from "./app-wiring";
import { writeRailwayVariables } from "./railway-variables";

/** Keys for `api` and `workers` when the app runs outside GCP; none otherwise. */
export function createAppCredentials(
  name: string,
  config: CredentialsConfig,
  serviceAccounts: Readonly<Record<AppService, pulumi.Input<string>>>,
  now: Date,
  opts?: pulumi.ComponentResourceOptions,
): AppCredentials {
  return new AppCredentials(name, { config, serviceAccounts, now }, opts);
}

/** `appEnv` always; Railway variables on the app's services when `app.railway` is set. */
export function createAppWiring(
  name: string,
  config: AppConfig,
  inputs: AppEnvironmentInputs,
  credentials: AppCredentials,
  opts?: pulumi.ComponentResourceOptions,
): AppWiring {
  return new AppWiring(
    name,
    { ...inputs, credentials: credentials.env, config, writeRailwayVariables },
    opts,
  );
}

export {
  AppWiring,
  renderAppEnvironment,
  type AppEnvironmentInputs,
  type AppWiringArgs,
  type RailwayVariablesWriter,
} from "./app-wiring";
export { writeRailwayVariables } from "./railway-variables";
