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
export const postgresUrl = platform.postgresUrl;
export const redisUrl = platform.redisUrl;
export const appEnv = platform.appEnv;

// Dev stack only (undefined elsewhere, so not exported): what `pr-<n>` stacks read through their
// StackReference — see DEV_STACK_EXPORTS.
export const postgresAdminHost = platform.devStackExports?.postgresAdminHost;
export const postgresAdminPort = platform.devStackExports?.postgresAdminPort;
export const postgresAdminUser = platform.devStackExports?.postgresAdminUser;
export const postgresAdminPassword = platform.devStackExports?.postgresAdminPassword;
export const postgresAppHost = platform.devStackExports?.postgresAppHost;
export const postgresAppPort = platform.devStackExports?.postgresAppPort;
export const postgresSslMode = platform.devStackExports?.postgresSslMode;
export const redisHost = platform.devStackExports?.redisHost;
export const redisPort = platform.devStackExports?.redisPort;
