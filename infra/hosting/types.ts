/**
 * What every hosting choice (Railway, GCP, external) hands to the rest of the platform, so the
 * roles, the migration resource and the app wiring do not care where the servers run.
 */
import type * as pulumi from "@pulumi/pulumi";

export type PostgresSslMode = "disable" | "require" | "verify-ca" | "verify-full";

export interface PostgresServer {
  /** Host and port that Pulumi (and CI) reach for roles and migrations. */
  readonly adminHost: pulumi.Output<string>;
  readonly adminPort: pulumi.Output<number>;
  /** Bootstrap login that creates the database and roles; the password is a secret. */
  readonly adminUser: pulumi.Output<string>;
  readonly adminPassword: pulumi.Output<string>;
  /** Host and port the app uses (may be a private network address). */
  readonly appHost: pulumi.Output<string>;
  readonly appPort: pulumi.Output<number>;
  readonly sslMode: PostgresSslMode;
  /** Resources that must exist before anyone connects (instance, proxy, users). */
  readonly readyResources: readonly pulumi.Resource[];
}

export interface RedisServer {
  /** `redis://` or `rediss://` URL with credentials: always a secret. */
  readonly url: pulumi.Output<string>;
  readonly host: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  readonly tls: boolean;
  /**
   * PEM of the CA that signed the server's certificate, when it is not a public CA (Memorystore):
   * the client must trust it for `rediss://` to verify.
   */
  readonly caCertificate?: pulumi.Output<string>;
}
