/**
 * Failures crossing from a worker thread to the main thread. `postMessage` keeps an error's message
 * and stack but not its class, so a `ToolError` travels as its kind, name and message and is
 * rebuilt as one on the other side; any other error is a bug and keeps the worker's stack.
 */
import { ToolError, type ErrorKind } from "../errors/tool-error";

export interface SerializedError {
  /** Set for a `ToolError`: what the user can act on. */
  readonly kind?: ErrorKind;
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof ToolError) {
    return { kind: error.kind, name: error.name, message: error.message };
  }
  if (error instanceof Error) {
    return { name: error.name, message: error.message, stack: error.stack };
  }
  return { name: "Error", message: String(error) };
}

/** A `ToolError` raised on a worker thread, as the main thread sees it. */
export class WorkerToolError extends ToolError {
  constructor(kind: ErrorKind, message: string, name: string) {
    super(kind, message);
    this.name = name;
  }
}

export function rebuildError(serialized: SerializedError): Error {
  if (serialized.kind !== undefined) {
    return new WorkerToolError(serialized.kind, serialized.message, serialized.name);
  }
  const error = new Error(serialized.message);
  error.name = serialized.name;
  if (serialized.stack !== undefined) error.stack = serialized.stack;
  return error;
}
