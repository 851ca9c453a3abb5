/**
 * The facts about a stack that the hosting factories need, as plain values resolved once by
 * infra/config.ts (protection included) and handed over by infra/platform.ts. Nothing here names
 * the stack's kind: no component derives a setting from it.
 */
import type * as pulumi from "@pulumi/pulumi";

export interface HostingEnvironment {
  /** Stack name, e.g. `dev`, `prod`: part of resource names in the cloud (`synter-<stack>`). */
  readonly stack: string;
  /**
   * The GCP project, as GcpProject's output: every GCP resource that takes it waits for a project
   * the stack creates.
   */
  readonly projectId: pulumi.Input<string>;
  readonly labels: Readonly<Record<string, string>>;
  /**
   * Pulumi `protect` plus the providers' deletion protection on the servers and their data: the
   * config's `protect`, never re-derived from the stack.
   */
  readonly protect: boolean;
}
