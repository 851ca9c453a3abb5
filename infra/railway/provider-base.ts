/**
 * What every Railway provider shares: where the token and endpoint come from, and how a diff
 * between stored outputs and new inputs is computed.
 *
 * Token order: the `token` option (tests), the stack's secret config `railway:token` (handed to
 * `configure` by Pulumi's dynamic-provider host), then `RAILWAY_TOKEN`. The token is read when
 * the first request is made and lives only inside the `RailwayClient`; it is never an input or
 * output of any resource, so it never reaches Pulumi state.
 */
import type * as pulumi from "@pulumi/pulumi";
import {
  RAILWAY_DEFAULT_ENDPOINT,
  RailwayClient,
  resolveRailwayToken,
  type RailwayRetryPolicy,
} from "./client";
import { RailwayApi } from "./operations";
import { probeEndpoint, type ReadinessClock } from "./service-readiness";

export interface RailwayProviderOptions {
  /** API token; default: config `railway:token`, then `RAILWAY_TOKEN`. */
  readonly token?: string;
  /** GraphQL endpoint; default: config `railway:endpoint`, then `RAILWAY_API_ENDPOINT`, then Railway's. */
  readonly endpoint?: string;
  readonly retry?: Partial<RailwayRetryPolicy>;
  readonly log?: (message: string) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /** Clock for readiness timeouts (ms since the epoch). Default `Date.now`. */
  readonly now?: () => number;
  /** One readiness probe of an endpoint; default `probeEndpoint` (the protocol's handshake). */
  readonly probe?: ReadinessClock["probe"];
}

/** Pulumi passes this string for a value not known yet (preview). */
export { PULUMI_UNKNOWN_VALUE as PULUMI_UNKNOWN } from "../pulumi-internals";
import { PULUMI_UNKNOWN_VALUE as PULUMI_UNKNOWN } from "../pulumi-internals";

export abstract class RailwayProviderBase {
  #options: RailwayProviderOptions;
  #configToken: string | undefined;
  #configEndpoint: string | undefined;
  #api: RailwayApi | undefined;

  constructor(options: RailwayProviderOptions = {}) {
    this.#options = options;
  }

  /** Called once by Pulumi's dynamic-provider host with the stack's configuration. */
  async configure(request: pulumi.dynamic.ConfigureRequest): Promise<void> {
    this.#configToken = request.config.get("railway:token");
    this.#configEndpoint = request.config.get("railway:endpoint");
    this.#api = undefined;
  }

  /** Built on first use so a missing token fails the operation that needs it, with a clear message. */
  protected get api(): RailwayApi {
    if (!this.#api) {
      const options = this.#options;
      const client = new RailwayClient({
        token: resolveRailwayToken(options.token ?? this.#configToken),
        endpoint:
          options.endpoint ??
          this.#configEndpoint ??
          process.env.RAILWAY_API_ENDPOINT ??
          RAILWAY_DEFAULT_ENDPOINT,
        retry: options.retry,
        log: options.log ?? ((message) => console.error(message)),
        sleep: options.sleep,
        random: options.random,
      });
      this.#api = new RailwayApi(client);
    }
    return this.#api;
  }

  /** Time and progress for waiting on deployments (see service-readiness.ts). */
  protected get clock(): ReadinessClock {
    const options = this.#options;
    return {
      sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
      now: options.now ?? Date.now,
      // A dynamic provider's stderr is what Pulumi shows in its log while a step runs.
      log: options.log ?? ((message) => console.error(message)),
      probe: options.probe ?? probeEndpoint,
    };
  }

  /** Keeps options (which may hold a token in tests) out of serialised or logged views. */
  toJSON(): object {
    return { provider: this.constructor.name };
  }
}

/** Keys whose new value differs from the stored one; an unknown new value counts as a change. */
export function changedKeys<K extends string>(
  olds: Partial<Record<K, unknown>>,
  news: Partial<Record<K, unknown>>,
  keys: readonly K[],
): K[] {
  return keys.filter((key) => {
    const next = news[key];
    if (next === PULUMI_UNKNOWN) return true;
    return stableJson(olds[key]) !== stableJson(next);
  });
}

/** JSON with sorted object keys, so `{a, b}` and `{b, a}` compare equal. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, inner: unknown) =>
    inner && typeof inner === "object" && !Array.isArray(inner)
      ? Object.fromEntries(
          Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : inner,
  );
}

/** Builds a `DiffResult` from the changed keys and the subset Railway cannot change in place. */
export function diffResult(
  changed: readonly string[],
  replaceOnly: readonly string[],
  deleteBeforeReplace = false,
): pulumi.dynamic.DiffResult {
  const replaces = changed.filter((key) => replaceOnly.includes(key));
  return {
    changes: changed.length > 0,
    replaces,
    deleteBeforeReplace: replaces.length > 0 && deleteBeforeReplace,
  };
}

export function requireString(value: unknown, field: string, resource: string): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new Error(`${resource}: \`${field}\` must be a non-empty string.`);
  }
  return value;
}

export function optionalString(
  value: unknown,
  field: string,
  resource: string,
): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  return requireString(value, field, resource);
}

/** A whole number ≥ 0 (an unknown value during preview passes). */
export function requireWholeNumber(value: unknown, field: string, resource: string): number {
  if (value === PULUMI_UNKNOWN) return value as unknown as number;
  const number = Number(value);
  if (typeof value === "boolean" || !Number.isInteger(number) || number < 0) {
    throw new Error(`${resource}: \`${field}\` must be a whole number ≥ 0, got ${String(value)}.`);
  }
  return number;
}

export function requirePort(value: unknown, field: string, resource: string): number {
  const port = requireWholeNumber(value, field, resource);
  if ((value as unknown) !== PULUMI_UNKNOWN && (port < 1 || port > 65535)) {
    throw new Error(`${resource}: \`${field}\` must be a port (1-65535), got ${String(value)}.`);
  }
  return port;
}
