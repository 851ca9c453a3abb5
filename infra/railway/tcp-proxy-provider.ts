/**
 * Provider logic for a Railway TCP proxy: a public `host:port` in front of a service port, so CI
 * (outside Railway's private network) can reach Postgres to run migrations.
 */
import type * as pulumi from "@pulumi/pulumi";
import { findOrCreate, type RailwayTcpProxyRecord } from "./operations";
import { RailwayProviderBase, changedKeys, diffResult, requireString } from "./provider-base";

export interface RailwayTcpProxyInputs {
  readonly environmentId: string;
  readonly serviceId: string;
  /** Port the service listens on inside its container (Postgres: 5432). */
  readonly applicationPort: number;
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
}

const RESOURCE = "RailwayTcpProxy";
// Railway has no mutation to change a proxy: every field means a new proxy (and a new port).
const REPLACE_KEYS = ["environmentId", "serviceId", "applicationPort"] as const;

function normalize(inputs: RailwayTcpProxyInputs): RailwayTcpProxyInputs {
  const port = Number(inputs.applicationPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(
      `${RESOURCE}: \`applicationPort\` must be an integer port (1-65535), got ${String(inputs.applicationPort)}.`,
    );
  }
  return {
    environmentId: requireString(inputs.environmentId, "environmentId", RESOURCE),
    serviceId: requireString(inputs.serviceId, "serviceId", RESOURCE),
    applicationPort: port,
  };
}

function outputsOf(proxy: RailwayTcpProxyRecord): RailwayTcpProxyOutputs {
  return {
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
      () => api.createTcpProxy(desired),
    );
    if (proxy.created) {
      // tcpProxyCreate only takes effect on the service's next deployment.
      await api.redeployServiceInstance(desired.environmentId, desired.serviceId);
    }
    return { id: proxy.value.id, outs: outputsOf(proxy.value) };
  }

  async read(
    id: string,
    props?: RailwayTcpProxyOutputs,
  ): Promise<pulumi.dynamic.ReadResult<RailwayTcpProxyOutputs>> {
    if (!props)
      throw new Error(`${RESOURCE}: read needs the stored outputs (import is not supported).`);
    const proxies = await this.api.listTcpProxies(props.environmentId, props.serviceId);
    const proxy = proxies.find((p) => p.id === id);
    return proxy ? { id, props: outputsOf(proxy) } : {};
  }

  async diff(
    _id: string,
    olds: RailwayTcpProxyOutputs,
    news: RailwayTcpProxyInputs,
  ): Promise<pulumi.dynamic.DiffResult> {
    const changed = changedKeys<(typeof REPLACE_KEYS)[number]>(
      olds,
      normalizeForDiff(news),
      REPLACE_KEYS,
    );
    // Delete first: the replacement on the same service and port would find and adopt the old one.
    return diffResult(changed, REPLACE_KEYS, true);
  }

  async update(): Promise<{ outs: RailwayTcpProxyOutputs }> {
    throw new Error(
      `${RESOURCE}: a TCP proxy cannot be updated in place; diff asks for a replacement.`,
    );
  }

  async delete(id: string): Promise<void> {
    await this.api.deleteTcpProxy(id);
  }
}

/** Diff runs during preview, where inputs may still be unknown: compare them as given. */
function normalizeForDiff(
  news: RailwayTcpProxyInputs,
): Partial<Record<(typeof REPLACE_KEYS)[number], unknown>> {
  const port = Number(news.applicationPort);
  return { ...news, applicationPort: Number.isNaN(port) ? news.applicationPort : port };
}
