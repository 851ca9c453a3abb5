/**
 * Every GraphQL document the Railway provider sends, in one place, so one test can validate
 * all of them against Railway's published schema (`../shared/railway/schema.graphql`).
 * Code elsewhere refers to these constants only — never to an inline query string.
 *
 * Each document holds exactly one named operation; the name doubles as the operation name
 * in requests and error messages.
 */

const pageInfo = "pageInfo { hasNextPage endCursor }";

// ---- projects and environments ---------------------------------------------------------

export const PROJECT_QUERY = `
query Project($id: String!) {
  project(id: $id) { id name description workspaceId }
}`;

export const PROJECTS_QUERY = `
query Projects($workspaceId: String, $first: Int, $after: String) {
  projects(workspaceId: $workspaceId, first: $first, after: $after) {
    edges { node { id name description workspaceId } }
    ${pageInfo}
  }
}`;

export const PROJECT_CREATE_MUTATION = `
mutation ProjectCreate($input: ProjectCreateInput!) {
  projectCreate(input: $input) { id name description workspaceId }
}`;

export const PROJECT_UPDATE_MUTATION = `
mutation ProjectUpdate($id: String!, $input: ProjectUpdateInput!) {
  projectUpdate(id: $id, input: $input) { id name description workspaceId }
}`;

export const PROJECT_DELETE_MUTATION = `
mutation ProjectDelete($id: String!) {
  projectDelete(id: $id)
}`;

export const ENVIRONMENT_QUERY = `
query Environment($id: String!, $projectId: String) {
  environment(id: $id, projectId: $projectId) { id name projectId }
}`;

export const ENVIRONMENTS_QUERY = `
query Environments($projectId: String!, $first: Int, $after: String) {
  environments(projectId: $projectId, first: $first, after: $after) {
    edges { node { id name projectId } }
    ${pageInfo}
  }
}`;

export const ENVIRONMENT_CREATE_MUTATION = `
mutation EnvironmentCreate($input: EnvironmentCreateInput!) {
  environmentCreate(input: $input) { id name projectId }
}`;

export const ENVIRONMENT_RENAME_MUTATION = `
mutation EnvironmentRename($id: String!, $input: EnvironmentRenameInput!) {
  environmentRename(id: $id, input: $input) { id name projectId }
}`;

export const ENVIRONMENT_DELETE_MUTATION = `
mutation EnvironmentDelete($id: String!) {
  environmentDelete(id: $id)
}`;

// ---- services ---------------------------------------------------------------------------

export const PROJECT_SERVICES_QUERY = `
query ProjectServices($projectId: String!, $first: Int, $after: String) {
  project(id: $projectId) {
    services(first: $first, after: $after) {
      edges { node { id name projectId } }
      ${pageInfo}
    }
  }
}`;

export const SERVICE_QUERY = `
query Service($id: String!) {
  service(id: $id) { id name projectId }
}`;

export const SERVICE_INSTANCE_QUERY = `
query ServiceInstance($environmentId: String!, $serviceId: String!) {
  serviceInstance(environmentId: $environmentId, serviceId: $serviceId) {
    id serviceId environmentId startCommand source { image }
  }
}`;

export const SERVICE_CREATE_MUTATION = `
mutation ServiceCreate($input: ServiceCreateInput!) {
  serviceCreate(input: $input) { id name projectId }
}`;

export const SERVICE_UPDATE_MUTATION = `
mutation ServiceUpdate($id: String!, $input: ServiceUpdateInput!) {
  serviceUpdate(id: $id, input: $input) { id name projectId }
}`;

export const SERVICE_INSTANCE_UPDATE_MUTATION = `
mutation ServiceInstanceUpdate($serviceId: String!, $environmentId: String, $input: ServiceInstanceUpdateInput!) {
  serviceInstanceUpdate(serviceId: $serviceId, environmentId: $environmentId, input: $input)
}`;

// `serviceInstanceDeployV2` (not `serviceInstanceRedeploy`, which answers only a Boolean) returns
// the new deployment's id, so the provider can wait for exactly that deployment.
export const SERVICE_INSTANCE_DEPLOY_MUTATION = `
mutation ServiceInstanceDeploy($environmentId: String!, $serviceId: String!) {
  serviceInstanceDeployV2(environmentId: $environmentId, serviceId: $serviceId)
}`;

export const DEPLOYMENT_QUERY = `
query RailwayDeployment($id: String!) {
  deployment(id: $id) { id status }
}`;

export const SERVICE_DELETE_MUTATION = `
mutation ServiceDelete($id: String!, $environmentId: String) {
  serviceDelete(id: $id, environmentId: $environmentId)
}`;

// ---- volumes ----------------------------------------------------------------------------

export const ENVIRONMENT_VOLUME_INSTANCES_QUERY = `
query EnvironmentVolumeInstances($environmentId: String!, $first: Int, $after: String) {
  environment(id: $environmentId) {
    volumeInstances(first: $first, after: $after) {
      edges { node { id volumeId serviceId environmentId mountPath } }
      ${pageInfo}
    }
  }
}`;

export const VOLUME_CREATE_MUTATION = `
mutation VolumeCreate($input: VolumeCreateInput!) {
  volumeCreate(input: $input) { id name projectId }
}`;

export const VOLUME_INSTANCE_UPDATE_MUTATION = `
mutation VolumeInstanceUpdate($volumeId: String!, $environmentId: String, $input: VolumeInstanceUpdateInput!) {
  volumeInstanceUpdate(volumeId: $volumeId, environmentId: $environmentId, input: $input)
}`;

export const VOLUME_DELETE_MUTATION = `
mutation VolumeDelete($volumeId: String!) {
  volumeDelete(volumeId: $volumeId)
}`;

// ---- variables --------------------------------------------------------------------------

export const VARIABLES_QUERY = `
query Variables($projectId: String!, $environmentId: String!, $serviceId: String) {
  variables(projectId: $projectId, environmentId: $environmentId, serviceId: $serviceId, unrendered: true)
}`;

export const VARIABLE_COLLECTION_UPSERT_MUTATION = `
mutation VariableCollectionUpsert($input: VariableCollectionUpsertInput!) {
  variableCollectionUpsert(input: $input)
}`;

export const VARIABLE_DELETE_MUTATION = `
mutation VariableDelete($input: VariableDeleteInput!) {
  variableDelete(input: $input)
}`;

// ---- TCP proxies ------------------------------------------------------------------------

export const TCP_PROXIES_QUERY = `
query TcpProxies($environmentId: String!, $serviceId: String!) {
  tcpProxies(environmentId: $environmentId, serviceId: $serviceId) {
    id domain proxyPort applicationPort serviceId environmentId
  }
}`;

// Railway marks tcpProxyCreate deprecated in favour of staged environment changes; it still
// works, but the proxy only becomes active after a redeploy, which the provider triggers.
export const TCP_PROXY_CREATE_MUTATION = `
mutation TcpProxyCreate($input: TCPProxyCreateInput!) {
  tcpProxyCreate(input: $input) { id domain proxyPort applicationPort serviceId environmentId }
}`;

export const TCP_PROXY_DELETE_MUTATION = `
mutation TcpProxyDelete($id: String!) {
  tcpProxyDelete(id: $id)
}`;

/** All documents, keyed by operation name (the test validates every entry). */
export const railwayDocuments = {
  Project: PROJECT_QUERY,
  Projects: PROJECTS_QUERY,
  ProjectCreate: PROJECT_CREATE_MUTATION,
  ProjectUpdate: PROJECT_UPDATE_MUTATION,
  ProjectDelete: PROJECT_DELETE_MUTATION,
  Environment: ENVIRONMENT_QUERY,
  Environments: ENVIRONMENTS_QUERY,
  EnvironmentCreate: ENVIRONMENT_CREATE_MUTATION,
  EnvironmentRename: ENVIRONMENT_RENAME_MUTATION,
  EnvironmentDelete: ENVIRONMENT_DELETE_MUTATION,
  ProjectServices: PROJECT_SERVICES_QUERY,
  Service: SERVICE_QUERY,
  ServiceInstance: SERVICE_INSTANCE_QUERY,
  ServiceCreate: SERVICE_CREATE_MUTATION,
  ServiceUpdate: SERVICE_UPDATE_MUTATION,
  ServiceInstanceUpdate: SERVICE_INSTANCE_UPDATE_MUTATION,
  ServiceInstanceDeploy: SERVICE_INSTANCE_DEPLOY_MUTATION,
  RailwayDeployment: DEPLOYMENT_QUERY,
  ServiceDelete: SERVICE_DELETE_MUTATION,
  EnvironmentVolumeInstances: ENVIRONMENT_VOLUME_INSTANCES_QUERY,
  VolumeCreate: VOLUME_CREATE_MUTATION,
  VolumeInstanceUpdate: VOLUME_INSTANCE_UPDATE_MUTATION,
  VolumeDelete: VOLUME_DELETE_MUTATION,
  Variables: VARIABLES_QUERY,
  VariableCollectionUpsert: VARIABLE_COLLECTION_UPSERT_MUTATION,
  VariableDelete: VARIABLE_DELETE_MUTATION,
  TcpProxies: TCP_PROXIES_QUERY,
  TcpProxyCreate: TCP_PROXY_CREATE_MUTATION,
  TcpProxyDelete: TCP_PROXY_DELETE_MUTATION,
} as const;

export type RailwayOperationName = keyof typeof railwayDocuments;
