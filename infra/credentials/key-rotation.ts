/**
 * `KeyRotation`: which of the two key slots holds the newest key, kept in the stack's state, so
 * that one `pulumi up` never replaces both slots, whatever the time since the previous one.
 *
 * Why state is needed: between two updates at t1 < t2 the engine replaces a key iff its keepers
 * differ, so "never both slots" means that, for all t1 < t2, (a(t1), b(t1)) and (a(t2), b(t2))
 * agree in at least one slot. If the keepers were pure functions of the time, every two values
 * the pair ever takes would have to share a slot; once slot b has taken two values, a pair with
 * another value of a could not agree with both of them, so slot a could never change. Hence no
 * schedule computed from `now` alone can rotate both slots and keep a key across every gap (the
 * earlier even/odd schedule replaced both after two idle periods).
 *
 * The state lives in a dynamic resource's inputs: the engine hands a dynamic provider's `check`
 * the resource's previous (checked) inputs, and `check` computes the new ones from them. The rule
 * is: when a new period has begun since the current slot was renewed, renew the *other* slot and
 * make it current; otherwise change nothing. So the key exported after one update (the current
 * slot) is never the one the next update replaces, and each new period still brings a new key.
 * `preview` shows the same: the engine takes a dynamic resource's checked inputs as its outputs
 * in a preview, so the keys' keepers are known there too.
 *
 * The provider reaches Pulumi as the repository's serializable shim (infra/serializable-provider.ts):
 * `__provider` names ./key-rotation-provider.ts, which holds the logic.
 */
import * as pulumi from "@pulumi/pulumi";
import { serializableProvider } from "../serializable-provider";
import type { KeyRotationInputs, KeyRotationState } from "./key-rotation-provider";

/** Path of the provider module relative to the Pulumi project root (see serializable-provider). */
export const KEY_ROTATION_PROVIDER_MODULE = "./infra/credentials/key-rotation-provider";

/** Built once per process: Pulumi caches a dynamic provider's serialization by identity. */
let shared: pulumi.dynamic.ResourceProvider | undefined;
export function keyRotationProvider(): pulumi.dynamic.ResourceProvider {
  shared ??= serializableProvider({
    module: KEY_ROTATION_PROVIDER_MODULE,
    factory: "createKeyRotationProvider",
    args: [],
  });
  return shared;
}

export interface KeyRotationArgs {
  /** The first day of the period `now` falls in. */
  readonly periodStart: string;
  /**
   * The slots for a stack without rotation state yet: the fixed even/odd schedule at `now`, so a
   * stack that used it keeps its keys when this resource is first created.
   */
  readonly initial: KeyRotationState;
}

export class KeyRotation extends pulumi.dynamic.Resource {
  declare readonly current: pulumi.Output<"a" | "b">;
  declare readonly a: pulumi.Output<string>;
  declare readonly b: pulumi.Output<string>;
  declare readonly periodStart: pulumi.Output<string>;

  constructor(name: string, args: KeyRotationArgs, opts?: pulumi.CustomResourceOptions) {
    const inputs: Record<keyof KeyRotationInputs, string> = {
      periodStart: args.periodStart,
      current: args.initial.current,
      a: args.initial.a,
      b: args.initial.b,
    };
    super(keyRotationProvider(), name, inputs, opts, "synter", "KeyRotation");
  }
}
