/**
 * Pulumi's own dynamic-provider host (`@pulumi/pulumi/cmd/dynamic-provider`), started as `pulumi up`
 * starts it — a separate Node process whose working directory is the project root — and spoken to
 * over its gRPC `ResourceProvider` protocol, with the engine's calling conventions:
 *
 * - `Configure` once, with the whole stack config, namespaces kept (pulumi/pulumi#17229);
 * - `Check(olds = the old *inputs*, news)` (pkg/resource/deploy/step_generator.go);
 * - `Diff(id, olds = the old *outputs*, news = the checked inputs)`;
 * - `Create(checked inputs)`, `Update(id, old outputs, checked inputs)`, `Delete(id, old outputs)`,
 *   `Read(id, old outputs)`.
 *
 * Every call carries the serialized `__provider` the program produced, so what runs is exactly
 * the code Pulumi would run: the serialized closure, its `require`s, tsx, the provider modules.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as readline from "node:readline";
import { dynamicProviderHostPath, providerProtocol } from "../../infra/pulumi-internals";

type Props = Record<string, unknown>;

export interface CheckResult {
  readonly inputs: Props;
  readonly failures: ReadonlyArray<{ readonly property: string; readonly reason: string }>;
}

export interface DiffResult {
  readonly changes: "none" | "some" | "unknown";
  readonly replaces: readonly string[];
  readonly deleteBeforeReplace: boolean;
}

/** A provider call that failed: its message is what Pulumi would print for the resource. */
export class ProviderCallError extends Error {
  override readonly name = "ProviderCallError";
  constructor(
    readonly method: string,
    readonly urn: string,
    message: string,
  ) {
    super(message);
  }
}

interface Message {
  [setter: string]: (value: unknown) => unknown;
}

interface ResponseMessage {
  [getter: string]: () => unknown;
}

type Client = Record<
  string,
  (request: unknown, callback: (error: Error | null, response: ResponseMessage) => void) => void
> & { close(): void };

export interface HostOptions {
  /** The Pulumi project root: the host's working directory, as under `pulumi up`. */
  readonly projectDir: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Each line the host writes on stderr (the provider's progress; Pulumi shows it in its log). */
  readonly onLog?: (line: string) => void;
}

export class DynamicProviderHost {
  readonly #child: ChildProcess;
  readonly #client: Client;
  readonly #protocol = providerProtocol();

  private constructor(child: ChildProcess, client: Client) {
    this.#child = child;
    this.#client = client;
  }

  static async start(options: HostOptions): Promise<DynamicProviderHost> {
    // The host's only argument is the engine's address; it serves without calling it.
    const child = spawn(process.execPath, [dynamicProviderHostPath(), "127.0.0.1:0"], {
      cwd: options.projectDir,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const stderr: string[] = [];
    readline.createInterface({ input: child.stderr! }).on("line", (line) => {
      stderr.push(line);
      options.onLog?.(line);
    });
    const port = await new Promise<number>((resolve, reject) => {
      const lines = readline.createInterface({ input: child.stdout! });
      lines.once("line", (line) => resolve(Number(line.trim())));
      child.once("exit", (code) =>
        reject(
          new Error(
            `the dynamic-provider host exited (code ${code}) before serving: ${stderr.slice(-3).join(" ")}`,
          ),
        ),
      );
    });
    const protocol = providerProtocol();
    const client = new protocol.service.ResourceProviderClient(
      `127.0.0.1:${port}` as never,
      protocol.grpc.credentials.createInsecure() as never,
    ) as unknown as Client;
    return new DynamicProviderHost(child, client);
  }

  async stop(): Promise<void> {
    this.#client.close();
    if (this.#child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      this.#child.once("exit", () => resolve());
      this.#child.kill("SIGTERM");
    });
  }

  #message(name: string, fields: Record<string, unknown>): unknown {
    const message = new this.#protocol.messages[name]() as Message;
    for (const [field, value] of Object.entries(fields)) {
      const setter = `set${field[0].toUpperCase()}${field.slice(1)}`;
      message[setter](value);
    }
    return message;
  }

  #struct(value: Props): unknown {
    return this.#protocol.Struct.fromJavaScript(value);
  }

  #call(method: string, urn: string, request: unknown): Promise<ResponseMessage> {
    return new Promise((resolve, reject) => {
      this.#client[method](request, (error, response) => {
        if (error) {
          // gRPC prefixes "2 UNKNOWN: "; the rest is the provider's own message.
          const message = error.message.replace(/^\d+ [A-Z_]+: /, "");
          reject(new ProviderCallError(method, urn, message));
        } else {
          resolve(response);
        }
      });
    });
  }

  async configure(config: Record<string, string>): Promise<void> {
    const request = this.#message("ConfigureRequest", {
      args: this.#struct(config),
      acceptsecrets: false,
    });
    await this.#call("configure", "", request);
  }

  async check(urn: string, olds: Props, news: Props): Promise<CheckResult> {
    const response = await this.#call(
      "check",
      urn,
      this.#message("CheckRequest", { urn, olds: this.#struct(olds), news: this.#struct(news) }),
    );
    const inputs = (response.getInputs() as { toJavaScript(): Props } | undefined)?.toJavaScript();
    const failures = (
      response.getFailuresList() as Array<{ getProperty(): string; getReason(): string }>
    ).map((failure) => ({ property: failure.getProperty(), reason: failure.getReason() }));
    return { inputs: inputs ?? news, failures };
  }

  async diff(id: string, urn: string, olds: Props, news: Props): Promise<DiffResult> {
    const response = await this.#call(
      "diff",
      urn,
      this.#message("DiffRequest", {
        id,
        urn,
        olds: this.#struct(olds),
        news: this.#struct(news),
      }),
    );
    const changes = response.getChanges() as number;
    return {
      // DiffResponse.DiffChanges: 0 unknown, 1 none, 2 some.
      changes: changes === 1 ? "none" : changes === 2 ? "some" : "unknown",
      replaces: response.getReplacesList() as string[],
      deleteBeforeReplace: response.getDeletebeforereplace() as boolean,
    };
  }

  async create(urn: string, properties: Props): Promise<{ id: string; properties: Props }> {
    const response = await this.#call(
      "create",
      urn,
      this.#message("CreateRequest", { urn, properties: this.#struct(properties) }),
    );
    return {
      id: response.getId() as string,
      properties: (response.getProperties() as { toJavaScript(): Props }).toJavaScript(),
    };
  }

  async update(id: string, urn: string, olds: Props, news: Props): Promise<Props> {
    const response = await this.#call(
      "update",
      urn,
      this.#message("UpdateRequest", {
        id,
        urn,
        olds: this.#struct(olds),
        news: this.#struct(news),
      }),
    );
    return (response.getProperties() as { toJavaScript(): Props }).toJavaScript();
  }

  async delete(id: string, urn: string, properties: Props): Promise<void> {
    await this.#call(
      "delete",
      urn,
      this.#message("DeleteRequest", { id, urn, properties: this.#struct(properties) }),
    );
  }

  /** `pulumi refresh`: the engine sends the stored outputs (and, since 3.x, the inputs). */
  async read(
    id: string,
    urn: string,
    properties: Props,
    inputs: Props,
  ): Promise<{ id: string; properties: Props } | undefined> {
    const response = await this.#call(
      "read",
      urn,
      this.#message("ReadRequest", {
        id,
        urn,
        properties: this.#struct(properties),
        inputs: this.#struct(inputs),
      }),
    );
    const readId = response.getId() as string;
    if (!readId) return undefined;
    return {
      id: readId,
      properties: (response.getProperties() as { toJavaScript(): Props }).toJavaScript(),
    };
  }
}
