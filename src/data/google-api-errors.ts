/**
 * What a failure of Google's client libraries (`@google-cloud/bigquery`, `@google-cloud/storage`
 * and their google-auth-library) means for the user, and which failures are worth retrying. The
 * libraries raise several shapes — `ApiError` (an HTTP status in `code`, the API's `errors` with
 * their `reason`), `GaxiosError` (`status`, or a socket error's `code`), plain errors from the token
 * exchange — so everything here reads them structurally.
 */
import { ToolError, type ErrorKind } from "../errors/tool-error";

/** A failure of BigQuery or Cloud Storage, or of the credentials for them. */
export class GoogleCloudError extends ToolError {}

/** How often and how long to retry a transient failure (the clients' `retryOptions` too). */
export interface RetrySettings {
  /** Retries after the first attempt (default 5). */
  readonly maxRetries?: number;
  /** Upper bound of one wait, in seconds (default 32). */
  readonly maxRetryDelaySeconds?: number;
  /** Growth of the wait per retry (default 2: 1 s, 2 s, 4 s… plus up to 1 s of jitter). */
  readonly retryDelayMultiplier?: number;
  /** No retry starts after this many seconds since the first attempt (default 600). */
  readonly totalTimeoutSeconds?: number;
}

export const DEFAULT_RETRY: Required<RetrySettings> = {
  maxRetries: 5,
  maxRetryDelaySeconds: 32,
  retryDelayMultiplier: 2,
  totalTimeoutSeconds: 600,
};

export function retrySettings(settings: RetrySettings = {}): Required<RetrySettings> {
  return { ...DEFAULT_RETRY, ...settings };
}

/** The wait before retry number `retry` (0-based): the same curve the clients' retries follow. */
export function retryDelayMs(settings: Required<RetrySettings>, retry: number): number {
  const jitter = Math.floor(Math.random() * 1000);
  return Math.min(
    settings.retryDelayMultiplier ** retry * 1000 + jitter,
    settings.maxRetryDelaySeconds * 1000,
  );
}

interface GoogleLikeError {
  readonly code?: unknown;
  readonly status?: unknown;
  readonly errors?: readonly { readonly reason?: unknown; readonly message?: unknown }[];
  readonly response?: { readonly status?: unknown; readonly statusCode?: unknown };
  readonly message?: unknown;
}

const TRANSIENT_STATUS = new Set([408, 429, 500, 502, 503, 504]);
/** Reasons BigQuery documents as "retry with backoff", whatever the status they come with. */
const TRANSIENT_REASONS = new Set([
  "rateLimitExceeded",
  "userRateLimitExceeded",
  "backendError",
  "internalError",
  "jobBackendError",
  "jobInternalError",
]);
/** Socket-level failures: the request may never have reached Google. */
const TRANSPORT_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
]);

/** The HTTP status a client error carries, if it came from a response. */
export function httpStatusOf(error: unknown): number | undefined {
  const e = (error ?? {}) as GoogleLikeError;
  for (const candidate of [e.code, e.status, e.response?.status, e.response?.statusCode]) {
    if (typeof candidate === "number" && candidate >= 100) return candidate;
  }
  return undefined;
}

/** The API's error reasons (`rateLimitExceeded`, `notFound`…). */
export function reasonsOf(error: unknown): string[] {
  const errors = ((error ?? {}) as GoogleLikeError).errors;
  if (!Array.isArray(errors)) return [];
  return errors.flatMap((e) => (typeof e?.reason === "string" ? [e.reason] : []));
}

/** A socket error code (ECONNRESET…) of the error or of its cause. */
export function transportCodeOf(error: unknown): string | undefined {
  for (
    let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 4;
    depth++
  ) {
    if (typeof e.code === "string" && TRANSPORT_CODES.has(e.code)) return e.code;
    e = e.cause as typeof e;
  }
  const message = messageOf(error);
  if (/socket hang up|ECONNRESET/i.test(message)) return "ECONNRESET";
  return undefined;
}

export function isTransientReason(reason: string | undefined | null): boolean {
  return reason !== undefined && reason !== null && TRANSIENT_REASONS.has(reason);
}

/** Worth retrying: a 5xx/408/429, a rate limit or backend error, or a dropped connection. */
export function isTransientGoogleError(error: unknown): boolean {
  const status = httpStatusOf(error);
  if (status !== undefined && TRANSIENT_STATUS.has(status)) return true;
  if (reasonsOf(error).some(isTransientReason)) return true;
  return status === undefined && transportCodeOf(error) !== undefined;
}

/** One line, short enough for a terminal: the APIs' messages may hold newlines or whole pages. */
export function oneLine(text: string, max = 400): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function messageOf(error: unknown): string {
  const message = ((error ?? {}) as GoogleLikeError).message;
  return typeof message === "string" && message !== "" ? message : String(error);
}

/** What to say about one service: its name, the roles it needs, the flags that name its resources. */
export interface ServiceContext {
  /** "BigQuery", "Cloud Storage". */
  readonly service: string;
  /** The roles the account needs, for an access error. */
  readonly roles: string;
  /** The flags naming what was not found, for a 404. */
  readonly flags: string;
}

const RERUN = "run the same command again (`data migrate --resume` continues where it stopped)";

export const CREDENTIAL_KINDS =
  "service_account, authorized_user, external_account (Workload Identity Federation) or impersonated_service_account";

/**
 * The credentials could not give a token (the Application Default Credentials lookup, a token
 * exchange with Google's STS, an impersonation): `auth`, or `unreachable` when the token endpoint
 * did not answer.
 */
export function credentialsError(
  context: ServiceContext,
  error: unknown,
  credentialsFile = process.env.GOOGLE_APPLICATION_CREDENTIALS,
): Error {
  if (error instanceof ToolError) return error;
  const detail = oneLine(messageOf(error));
  const code = ((error ?? {}) as { code?: unknown }).code;
  if (
    credentialsFile &&
    (error instanceof SyntaxError || code === "ENOENT" || code === "EACCES" || code === "EISDIR")
  ) {
    // The old guide put base64 key JSON into the variable: it names a file, not the key itself.
    return new GoogleCloudError(
      "config",
      `cannot read the credentials file ${oneLine(credentialsFile, 120)} (GOOGLE_APPLICATION_CREDENTIALS): ${detail}; it must be the path of a credentials JSON file, not its content`,
      { cause: error },
    );
  }
  const transport = transportCodeOf(error);
  const status = httpStatusOf(error);
  if (transport !== undefined || (status !== undefined && status >= 500)) {
    return new GoogleCloudError(
      "unreachable",
      `cannot get a token for ${context.service}: the token endpoint did not answer (${detail}); check the network and ${RERUN}`,
      { cause: error },
    );
  }
  return new GoogleCloudError(
    "auth",
    `no usable Google credentials for ${context.service}: ${detail}; set GOOGLE_APPLICATION_CREDENTIALS to the path of a credentials file (${CREDENTIAL_KINDS}) or run \`gcloud auth application-default login\``,
    { cause: error },
  );
}

/**
 * A failed call of `action` (e.g. "load job synter_migrate_events_…"), after the retries the
 * clients and we make. An error this does not recognise passes through unchanged (a bug, printed
 * with its stack).
 */
export function googleApiError(context: ServiceContext, action: string, error: unknown): Error {
  if (error instanceof ToolError) return error;
  const status = httpStatusOf(error);
  const reasons = reasonsOf(error);
  const detail = oneLine(messageOf(error));
  const fail = (kind: ErrorKind, message: string) =>
    new GoogleCloudError(kind, message, { cause: error });
  if (status === undefined) {
    if (/retry (total time )?limit exceeded/i.test(detail)) {
      // Cloud Storage's resumable upload gave up after its own retries.
      return fail(
        "unreachable",
        `${context.service} kept failing (${action}): ${detail}; ${RERUN} later`,
      );
    }
    const transport = transportCodeOf(error);
    if (transport === undefined) return error instanceof Error ? error : new Error(detail);
    return fail(
      "unreachable",
      `${context.service} did not answer (${action}): ${detail}; check the network and ${RERUN}`,
    );
  }
  if (isTransientGoogleError(error)) {
    return fail(
      "unreachable",
      `${context.service} kept failing (${action}): ${status} ${detail}; ${RERUN} later`,
    );
  }
  if (status === 401 || status === 403) {
    return fail(
      "auth",
      `${context.service} refused the credentials (${action}): ${detail}; check GOOGLE_APPLICATION_CREDENTIALS and that the account has ${context.roles}`,
    );
  }
  if (status === 404 || reasons.includes("notFound")) {
    return fail(
      "config",
      `${context.service} has no such resource (${action}): ${detail}; check ${context.flags} and that \`pulumi up\` created it`,
    );
  }
  return fail("config", `${context.service} rejected ${action}: ${status} ${detail}`);
}
