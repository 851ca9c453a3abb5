/**
 * A small client for Railway's public GraphQL API: bearer-token auth, bounded retries with
 * exponential backoff and full jitter on 429 / 5xx / network errors (honouring `Retry-After`),
 * and a typed error that carries the operation name and Railway's own message.
 *
 * The token is held in a private field and never appears in errors, logs or return values;
 * anything echoed back by the server is redacted before it reaches an error message.
 */
import { railwayDocuments, type RailwayOperationName } from "./documents";

export const RAILWAY_DEFAULT_ENDPOINT = "https://backboard.railway.com/graphql/v2";

/** Where a failure came from; `retryable` says whether sending again could succeed. */
export type RailwayErrorKind = "graphql" | "http" | "rate-limited" | "network";

export class RailwayApiError extends Error {
  override readonly name = "RailwayApiError";
  constructor(
    /** GraphQL operation name, e.g. `ServiceCreate`. */
    readonly operation: RailwayOperationName,
    readonly kind: RailwayErrorKind,
    /** Railway's message (GraphQL `errors[].message` joined), or a description of the failure. */
    readonly railwayMessage: string,
    readonly status: number | undefined,
    readonly attempts: number,
  ) {
    super(`Railway ${operation} failed: ${railwayMessage}`);
  }

  /** 429, 5xx and network failures may succeed when sent again; GraphQL errors will not. */
  get retryable(): boolean {
    return this.kind === "rate-limited" || this.kind === "network" || (this.status ?? 0) >= 500;
  }

  /** Railway answers a read of a deleted or unknown object with a "... not found" error. */
  get notFound(): boolean {
    return (
      (this.kind === "graphql" || this.status === 404) && /not found/i.test(this.railwayMessage)
    );
  }
}

export class RailwayTokenMissingError extends Error {
  override readonly name = "RailwayTokenMissingError";
  constructor() {
    super(
      "No Railway API token: set the secret config `railway:token` " +
        "(pulumi config set --secret railway:token <token>) or the RAILWAY_TOKEN environment variable.",
    );
  }
}

/** The secret config value wins over the environment; an empty string counts as unset. */
export function resolveRailwayToken(
  configToken: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const token = configToken?.trim() || env.RAILWAY_TOKEN?.trim();
  if (!token) throw new RailwayTokenMissingError();
  return token;
}

export interface RailwayRetryPolicy {
  /** Total attempts including the first one. Default 5. */
  readonly maxAttempts: number;
  /** Backoff before the 2nd attempt; doubles each time. Default 500 ms. */
  readonly baseDelayMs: number;
  /** Cap of one backoff delay. Default 20 s. */
  readonly maxDelayMs: number;
  /** Cap on a server-sent `Retry-After`, so a bad header cannot stall a deploy. Default 60 s. */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RailwayRetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  maxRetryAfterMs: 60_000,
};

export interface RailwayClientOptions {
  readonly token: string;
  /** Default: Railway's public endpoint. */
  readonly endpoint?: string;
  readonly retry?: Partial<RailwayRetryPolicy>;
  /** Per-request timeout; a timeout counts as a network error. Default 30 s. */
  readonly requestTimeoutMs?: number;
  /** Receives one line per retry (never the token). Default: none. */
  readonly log?: (message: string) => void;
  /** Injected for tests; default `setTimeout`. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Injected for tests; default `Math.random`. */
  readonly random?: () => number;
}

export interface RailwayRequestOptions {
  /**
   * Whether sending the request twice is harmless. Reads, deletes and upserts are; creates are
   * not: a 5xx or dropped connection may hide a create that happened, so those are retried only
   * on 429 (rejected before execution) and otherwise left to the caller, which looks for the
   * object before creating again. Default: queries true, mutations false.
   */
  readonly idempotent?: boolean;
}

interface GraphqlResponseBody {
  readonly data?: unknown;
  readonly errors?: ReadonlyArray<{ readonly message?: unknown }>;
}

const defaultSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** `Retry-After` is either delta-seconds or an HTTP date. */
export function parseRetryAfterMs(
  header: string | null,
  now: number = Date.now(),
): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Full jitter (AWS architecture blog): uniform in [0, min(cap, base·2^(attempt-1))]. */
export function backoffDelayMs(
  attempt: number,
  policy: RailwayRetryPolicy,
  random: () => number,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(random() * ceiling);
}

export class RailwayClient {
  readonly endpoint: string;
  readonly retryPolicy: RailwayRetryPolicy;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #log: (message: string) => void;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;

  constructor(options: RailwayClientOptions) {
    if (!options.token) throw new RailwayTokenMissingError();
    this.#token = options.token;
    this.endpoint = options.endpoint ?? RAILWAY_DEFAULT_ENDPOINT;
    this.retryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.#timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#log = options.log ?? (() => undefined);
    this.#sleep = options.sleep ?? defaultSleep;
    this.#random = options.random ?? Math.random;
  }

  /** Keeps the token out of `console.log(client)` and JSON dumps. */
  toJSON(): object {
    return { endpoint: this.endpoint, retryPolicy: this.retryPolicy };
  }

  /** Sends the named document from `documents.ts` and returns its `data`. */
  async request<T>(
    operation: RailwayOperationName,
    variables: Record<string, unknown> = {},
    options: RailwayRequestOptions = {},
  ): Promise<T> {
    const document = railwayDocuments[operation];
    const idempotent = options.idempotent ?? !/^\s*mutation\b/.test(document);
    const body = JSON.stringify({ query: document, variables, operationName: operation });
    const policy = this.retryPolicy;

    for (let attempt = 1; ; attempt++) {
      const outcome = await this.#send(operation, body, attempt);
      if (outcome.ok) return outcome.data as T;
      const error = outcome.error;
      const mayRetry =
        attempt < policy.maxAttempts &&
        (error.kind === "rate-limited" || (error.retryable && idempotent));
      if (!mayRetry) throw error;
      const delay =
        outcome.retryAfterMs !== undefined
          ? Math.min(outcome.retryAfterMs, policy.maxRetryAfterMs)
          : backoffDelayMs(attempt, policy, this.#random);
      this.#log(
        `Railway ${operation}: ${error.railwayMessage}; retrying in ${delay} ms ` +
          `(attempt ${attempt + 1} of ${policy.maxAttempts})`,
      );
      await this.#sleep(delay);
    }
  }

  async #send(
    operation: RailwayOperationName,
    body: string,
    attempt: number,
  ): Promise<
    { ok: true; data: unknown } | { ok: false; error: RailwayApiError; retryAfterMs?: number }
  > {
    const fail = (kind: RailwayErrorKind, message: string, status?: number) =>
      new RailwayApiError(operation, kind, this.#redact(message), status, attempt);
    let response: Response;
    let text: string;
    try {
      response = await fetch(this.endpoint, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json",
          authorization: `Bearer ${this.#token}`,
        },
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      text = await response.text();
    } catch (cause) {
      // undici reports "fetch failed" with the reason in `cause`; keep both, never the headers.
      const reason = describeNetworkError(cause);
      return { ok: false, error: fail("network", `network error: ${reason}`) };
    }

    const parsed = parseBody(text);
    const graphqlMessage = parsed?.errors
      ?.map((e) => (typeof e.message === "string" ? e.message : "unknown error"))
      .join("; ");

    if (response.status === 429) {
      return {
        ok: false,
        error: fail("rate-limited", graphqlMessage || "rate limited (HTTP 429)", 429),
        retryAfterMs: parseRetryAfterMs(response.headers.get("retry-after")),
      };
    }
    if (!response.ok) {
      const detail = graphqlMessage || text.trim().slice(0, 300) || response.statusText;
      return {
        ok: false,
        error: fail("http", `HTTP ${response.status}: ${detail}`, response.status),
      };
    }
    if (graphqlMessage) {
      return { ok: false, error: fail("graphql", graphqlMessage, response.status) };
    }
    if (parsed === undefined || parsed.data === undefined || parsed.data === null) {
      return {
        ok: false,
        error: fail("http", "response carried neither data nor errors", response.status),
      };
    }
    return { ok: true, data: parsed.data };
  }

  #redact(text: string): string {
    return text.split(this.#token).join("[redacted]");
  }
}

function parseBody(text: string): GraphqlResponseBody | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? (value as GraphqlResponseBody) : undefined;
  } catch {
    return undefined;
  }
}

interface ErrorLike {
  readonly message?: unknown;
  readonly code?: unknown;
  readonly cause?: unknown;
}

// Duck-typed rather than `instanceof Error`: fetch's errors may come from another realm.
function describeNetworkError(error: unknown): string {
  if (typeof error !== "object" || error === null) return String(error);
  const { message, cause } = error as ErrorLike;
  const text = typeof message === "string" ? message : String(error);
  if (typeof cause === "object" && cause !== null) {
    const { code, message: causeMessage } = cause as ErrorLike;
    const detail = typeof code === "string" ? code : causeMessage;
    if (typeof detail === "string") return `${text} (${detail})`;
  }
  return text;
}
