/**
 * Every GraphQL document the Railway provider sends must be valid against Railway's published
 * schema, so a typo in a mutation or input field fails here instead of during a deploy.
 */
import { Kind, parse, validate, type OperationDefinitionNode } from "graphql";
import { railwayDocuments } from "../../infra/railway/documents";
import { loadRailwaySchema, railwaySchemaPath } from "./railway-schema";

const entries = Object.entries(railwayDocuments);

describe("Railway GraphQL documents", () => {
  const schema = loadRailwaySchema();

  it("reads the schema from the shared folder", () => {
    expect(railwaySchemaPath()).toMatch(/railway[\\/]schema\.graphql$/);
    expect(schema.getMutationType()?.getFields().serviceCreate).toBeDefined();
  });

  it("covers every operation the provider needs", () => {
    expect(entries.map(([name]) => name).sort()).toEqual(
      [
        "Environment",
        "EnvironmentCreate",
        "EnvironmentDelete",
        "EnvironmentRename",
        "EnvironmentVolumeInstances",
        "Environments",
        "Project",
        "ProjectCreate",
        "ProjectDelete",
        "ProjectServices",
        "ProjectUpdate",
        "Projects",
        "Service",
        "ServiceCreate",
        "ServiceDelete",
        "ServiceInstance",
        "ServiceInstanceDeploy",
        "RailwayDeployment",
        "ServiceInstanceUpdate",
        "ServiceUpdate",
        "TcpProxies",
        "TcpProxyCreate",
        "TcpProxyDelete",
        "Variables",
        "VariableCollectionUpsert",
        "VariableDelete",
        "VolumeCreate",
        "VolumeDelete",
        "VolumeInstanceUpdate",
      ].sort(),
    );
  });

  it.each(entries)("%s is valid against Railway's schema", (name, source) => {
    const document = parse(source);
    expect(validate(schema, document).map((error) => error.message)).toEqual([]);
    const operations = document.definitions.filter(
      (definition): definition is OperationDefinitionNode =>
        definition.kind === Kind.OPERATION_DEFINITION,
    );
    expect(operations.map((operation) => operation.name?.value)).toEqual([name]);
  });

  it("rejects a document with a misspelt mutation or input field (the check can fail)", () => {
    const misspeltMutation = parse(
      "mutation X($input: ServiceCreateInput!) { serviceCreat(input: $input) { id } }",
    );
    expect(validate(schema, misspeltMutation).map((e) => e.message)).toEqual([
      'Cannot query field "serviceCreat" on type "Mutation". Did you mean "serviceCreate", "serviceConnect", "serviceUpdate", or "serviceDelete"?',
    ]);
    const wrongInputField = parse(
      'mutation X { volumeCreate(input: { projectId: "p", mountPath: "/data", size: 5 }) { id } }',
    );
    expect(validate(schema, wrongInputField).map((e) => e.message)).toEqual([
      'Field "size" is not defined by type "VolumeCreateInput".',
    ]);
  });
});
