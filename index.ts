/**
 * Pulumi entry point: load the config, build the platform, export its outputs (DESIGN §5).
 * No logic here; see infra/platform.ts.
 */
import { loadConfig } from "./infra/config";
import { createPlatform } from "./infra/platform";

const platform = createPlatform(loadConfig());

export const bigqueryProjectId = platform.bigqueryProjectId;
export const bigqueryDataset = platform.bigqueryDataset;
export const bigqueryLocation = platform.bigqueryLocation;
export const apiServiceAccountEmail = platform.apiServiceAccountEmail;
export const workersServiceAccountEmail = platform.workersServiceAccountEmail;
