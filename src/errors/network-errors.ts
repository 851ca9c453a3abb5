/**
 * What node's socket-level error codes mean when a client cannot reach a server, worded once for
 * every database client of the tool (the source in `data migrate`, its Postgres target): each
 * client adds only what is its own (which server, which flag to check, what a time-out suggests).
 */

export interface UnreachableServer {
  /** The server as the message names it: `the source database`, `the Postgres target`. */
  readonly server: string;
  /** `host:port`. */
  readonly where: string;
  /** The command-line flag that holds the server's URL, e.g. `--source`. */
  readonly flag: string;
  /** Said of a time-out instead of its bare code (the client's connect timeout, what to check). */
  readonly timedOut?: string;
}

/** The one-line message for a connect failure with this `code`, or undefined for other codes. */
export function unreachableMessage(
  code: string | undefined,
  server: UnreachableServer,
): string | undefined {
  const prefix = `cannot reach ${server.server} at ${server.where}`;
  switch (code) {
    case "ECONNREFUSED":
      return `${prefix}: connection refused (is it running? check the host and port of ${server.flag})`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `${prefix}: unknown host (check the host of ${server.flag})`;
    case "ETIMEDOUT":
      return `${prefix}: ${server.timedOut ?? code}`;
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return `${prefix}: ${code}`;
    default:
      return undefined;
  }
}
