/**
 * The facts about a stack that the hosting, credentials and app factories need, as plain values
 * (infra/platform.ts derives them from the validated config).
 */
export type StackKind = "dev" | "staging" | "prod" | "pr";

export interface HostingEnvironment {
  /** Stack name, e.g. `dev`, `prod`, `pr-42`: part of resource names in the cloud. */
  readonly stack: string;
  readonly kind: StackKind;
  readonly projectId: string;
  /** Default region for Cloud SQL and Memorystore. */
  readonly region: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** Staging and prod keep their data: Pulumi `protect` plus the provider's deletion protection. */
export function isProtected(kind: StackKind): boolean {
  switch (kind) {
    case "staging":
    case "prod":
      return true;
    case "dev":
    case "pr":
      return false;
    default: {
      const unknown: never = kind;
      throw new Error(`unknown stack kind ${String(unknown)}`);
    }
  }
}
