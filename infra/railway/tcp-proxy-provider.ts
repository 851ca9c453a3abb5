/**
 * Provider logic for a Railway TCP proxy: a public `host:port` in front of a service port, so CI
 * (outside Railway's private network) can reach Postgres to run migrations.
 */
import type * as pulumi from "@pulumi/pulumi";
import { findOrCreate, type RailwayTcpProxyRecord } from "./operations";
import {
  PULUMI_UNKNOWN,
  RailwayProviderBase,
  changedKeys,
  diffResult,
  requireString,
  requireWholeNumber,
} from "./provider-base";
import {
  ENDPOINT_PROTOCOLS,
  waitForDeployment,
  waitForEndpoint,
  type EndpointProtocol,
} from "./service-readiness";

export interface RailwayTcpProxyInputs {
  readonly environmentId: string;
  readonly serviceId: string;
  /** Port the service listens on inside its container (Postgres: 5432). */
  readonly applicationPort: number;
  /** What answers behind the proxy; create waits until it does. */
  readonly protocol: EndpointProtocol;
  /** How long create waits for the deployment that enables the proxy and for the endpoint. */
  readonly readyTimeoutSeconds: number;
}

export interface RailwayTcpProxyOutputs {
  readonly proxyId: string;
  readonly environmentId: string;
  readonly serviceId: string;
  readonly applicationPort: number;
  /** Public host, e.g. `roundhouse.proxy.rlwy.net`. */
  readonly domain: string;
  /** Public port on `domain`. */
  readonly proxyPort: number;
  /** `domain:proxyPort`. */
  readonly endpoint: string;
  readonly protocol: EndpointProtocol;
  readonly readyTimeoutSeconds: number;
}

const RESOURCE = "RailwayTcpProxy";
// Railway has no mutation to change a proxy: every field means a new proxy (and a new port).
const REPLACE_KEYS = ["environmentId", "serviceId", "applicationPort"] as const;
// How the provider waits changes nothing on Railway: updated in place.
const DIFF_KEYS = [...REPLACE_KEYS, "protocol", "readyTimeoutSeconds"] as const;

function normalize(inputs: RailwayTcpProxyInputs): RailwayTcpProxyInputs {
  const port = Number(inputs.applicationPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(
      `${RESOURCE}: \`applicationPort\` must be an integer port (1-65535), got ${String(inputs.applicationPort)}.`,
    );
  }
  const protocol = inputs.protocol;
  if (!ENDPOINT_PROTOCOLS.includes(protocol) && (protocol as string) !== PULUMI_UNKNOWN) {
    throw new Error(
      `${RESOURCE}: \`protocol\` must be one of ${ENDPOINT_PROTOCOLS.join(", ")}, got ${String(protocol)}.`,
    );
  }
  return {
    environmentId: requireString(inputs.environmentId, "environmentId", RESOURCE),
    serviceId: requireString(inputs.serviceId, "serviceId", RESOURCE),
    applicationPort: port,
    protocol,
    readyTimeoutSeconds: requireWholeNumber(
      inputs.readyTimeoutSeconds,
      "readyTimeoutSeconds",
      RESOURCE,
    ),
  };
}

function outputsOf(
  proxy: RailwayTcpProxyRecord,
  settings: Pick<RailwayTcpProxyInputs, "protocol" | "readyTimeoutSeconds">,
): RailwayTcpProxyOutputs {
  return {
    protocol: settings.protocol,
    readyTimeoutSeconds: settings.readyTimeoutSeconds,
    proxyId: proxy.id,
    environmentId: proxy.environmentId,
    serviceId: proxy.serviceId,
    applicationPort: proxy.applicationPort,
    domain: proxy.domain,
    proxyPort: proxy.proxyPort,
    endpoint: `${proxy.domain}:${proxy.proxyPort}`,
  };
}

export class RailwayTcpProxyProvider
  extends RailwayProviderBase
  implements pulumi.dynamic.ResourceProvider<RailwayTcpProxyInputs, RailwayTcpProxyOutputs>
{
  async check(
    _olds: RailwayTcpProxyInputs,
    news: RailwayTcpProxyInputs,
  ): Promise<pulumi.dynamic.CheckResult<RailwayTcpProxyInputs>> {
    try {
      normalize(news);
      return { inputs: news };
    } catch (error) {
      return {
        inputs: news,
        failures: [{ property: "applicationPort", reason: (error as Error).message }],
      };
    }
  }

  async create(
    inputs: RailwayTcpProxyInputs,
  ): Promise<{ id: string; outs: RailwayTcpProxyOutputs }> {
    const desired = normalize(inputs);
    const api = this.api;
    const proxy = await findOrCreate(
      async () =>
        (await api.listTcpProxies(desired.environmentId, desired.serviceId)).find(
          (p) => p.applicationPort === desired.applicationPort,
        ),
      () =>
        api.createTcpProxy({
          environmentId: desired.environmentId,
          serviceId: desired.serviceId,
          applicationPort: desired.applicationPort,
        }),
    );
    const wait = {
      ...this.clock,
      subject: `${RESOURCE} ${proxy.value.domain}:${proxy.value.proxyPort}`,
      timeoutSeconds: desired.readyTimeoutSeconds,
    };
    // tcpProxyCreate only takes effect on the service's next deployment. An adopted proxy (a run
    // that failed halfway) may never have had one, so it is deployed too.
    const deploymentId = await api.deployServiceInstance(desired.environmentId, desired.serviceId);
    await waitForDeployment(api, deploymentId, wait);
    await waitForEndpoint(proxy.value.domain, proxy.value.proxyPort, desired.protocol, wait);
    return { id: proxy.value.id, outs: outputsOf(proxy.value, desired) };
  }

  async read(
    id: string,
    props?: RailwayTcpProxyOutputs,
  ): Promise<pulumi.dynamic.ReadResult<RailwayTcpProxyOutputs>> {
    if (!props)
      throw new Error(`${RESOURCE}: read needs the stored outputs (import is not supported).`);
    const proxies = await this.api.listTcpProxies(props.environmentId, props.serviceId);
    const proxy = proxies.find((p) => p.id === id);
    return proxy ? { id, props: outputsOf(proxy, props) } : {};
  }

  async diff(
    _id: string,
    olds: RailwayTcpProxyOutputs,
    news: RailwayTcpProxyInputs,
  ): Promise<pulumi.dynamic.DiffResult> {
    const changed = changedKeys<(typeof DIFF_KEYS)[number]>(
      olds,
      normalizeForDiff(news),
      DIFF_KEYS,
    );
    // Delete first: the replacement on the same service and port would find and adopt the old one.
    return diffResult(changed, REPLACE_KEYS, true);
  }

  /** Only how the provider waits can change in place; diff replaces for anything else. */
  async update(
    _id: string,
    olds: RailwayTcpProxyOutputs,
    news: RailwayTcpProxyInputs,
  ): Promise<{ outs: RailwayTcpProxyOutputs }> {
    const desired = normalize(news);
    return {
      outs: {
        ...olds,
        protocol: desired.protocol,
        readyTimeoutSeconds: desired.readyTimeoutSeconds,
      },
    };
  }

  async delete(id: string): Promise<void> {
    await this.api.deleteTcpProxy(id);
  }
}

/** Diff runs during preview, where inputs may still be unknown: compare them as given. */
function normalizeForDiff(
  news: RailwayTcpProxyInputs,
): Partial<Record<(typeof DIFF_KEYS)[number], unknown>> {
  const port = Number(news.applicationPort);
  return { ...news, applicationPort: Number.isNaN(port) ? news.applicationPort : port };
}
