/**
 * AppWiring's Railway writer: each service's variables as one `RailwayVariables` resource, which
 * manages only the names it lists (variables set by hand stay) and redeploys on change.
 */
import { RailwayVariables } from "../railway";
import type { RailwayVariablesWriter } from "./app-wiring";

export const writeRailwayVariables: RailwayVariablesWriter = (name, target, opts) =>
  new RailwayVariables(
    name,
    {
      projectId: target.projectId,
      environmentId: target.environmentId,
      serviceId: target.serviceId,
      variables: target.variables,
    },
    opts,
  );
