/**
 * What the real providers compute for the resources this program creates (addresses, the Redis
 * AUTH string, a key file, dynamic Railway outputs), with obviously fake values, for every mock
 * runtime harness of the tests.
 */
/** The mock runtime hands secret inputs over wrapped with Pulumi's secret signature. */
const SECRET_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d";
export function isSecretInput(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[SECRET_SIGNATURE_KEY] === "1b47061264138c4ac30d75fd1eb44270"
  );
}

/** A fake key file, as the provider returns it: base64 of the JSON. */
export function fakeKeyFile(name: string): string {
  return JSON.stringify({ type: "service_account", private_key_id: `id-${name}` });
}

function unwrapSecret(value: unknown): unknown {
  return isSecretInput(value) ? (value as { value: unknown }).value : value;
}

export function providerOutputs(type: string, name: string, inputs: Record<string, unknown>) {
  switch (type) {
    case "gcp:sql/databaseInstance:DatabaseInstance":
      return {
        name,
        publicIpAddress: "203.0.113.10",
        connectionName: `${String(inputs.project)}:${String(inputs.region)}:${name}`,
      };
    case "gcp:redis/instance:Instance":
      return {
        host: "10.20.0.3",
        port: 6378,
        authString: `auth/${name}@x`,
        serverCaCerts: [{ cert: "CERT-1" }, { cert: "CERT-2" }],
      };
    case "random:index/randomPassword:RandomPassword":
      return { result: `pw-${name}` };
    case "pulumi-nodejs:dynamic/railway:RailwayProject":
      return {
        projectId: inputs.existingProjectId ?? `project-${name}`,
        environmentId: inputs.existingEnvironmentId ?? `environment-${name}`,
      };
    case "pulumi-nodejs:dynamic/railway:RailwayPostgres":
      return {
        serviceId: `service-${name}`,
        privateHost: `${String(inputs.serviceName)}.railway.internal`,
        port: 5432,
        user: "postgres",
        database: "railway",
      };
    case "pulumi-nodejs:dynamic/railway:RailwayRedis":
      return {
        serviceId: `service-${name}`,
        privateHost: `${String(inputs.serviceName)}.railway.internal`,
        port: 6379,
        url: `redis://default:${String(unwrapSecret(inputs.password))}@${String(inputs.serviceName)}.railway.internal:6379`,
      };
    case "pulumi-nodejs:dynamic/railway:RailwayTcpProxy":
      return { domain: "shuttle.proxy.rlwy.net", proxyPort: 41234 };
    case "gcp:serviceaccount/key:Key":
      return { privateKey: Buffer.from(fakeKeyFile(name)).toString("base64") };
    default:
      return {};
  }
}
