/**
 * A gRPC client for the ZetaSQL local service (`local_service.proto` in the npm package), one per
 * server. Loader options: 64-bit integers and enums as strings, bytes as Buffers, oneofs named,
 * and no defaults filled in, so an unset `ValueProto` is recognisably NULL.
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { dirname, join } from "node:path";
import type {
  AnalyzeResponse,
  EvaluateQueryResponse,
  LanguageOptionsProto,
  RegisterResponse,
} from "./proto-types";

export interface ZetaSqlClient {
  analyze(request: object): Promise<AnalyzeResponse>;
  evaluateQuery(request: object): Promise<EvaluateQueryResponse>;
  registerCatalog(request: object): Promise<RegisterResponse>;
  unregisterCatalog(request: { registeredId: string }): Promise<void>;
  getLanguageOptions(request: {
    maximumFeatures?: boolean;
    languageVersion?: string;
  }): Promise<LanguageOptionsProto>;
  /** True when the service answers a trivial request. */
  ping(): Promise<boolean>;
  close(): void;
}

type UnaryMethod = (
  request: object,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: unknown) => void,
) => void;

let serviceConstructor: grpc.ServiceClientConstructor | undefined;

function loadService(): grpc.ServiceClientConstructor {
  if (serviceConstructor) return serviceConstructor;
  const packageDir = dirname(require.resolve("@fivetrandevelopers/zetasql/package.json"));
  const definition = protoLoader.loadSync("local_service.proto", {
    includeDirs: [join(packageDir, "lib", "zetasql", "protos")],
    longs: String,
    enums: String,
    bytes: Buffer,
    defaults: false,
    oneofs: true,
  });
  const root = grpc.loadPackageDefinition(definition) as unknown as {
    zetasql: { local_service: { ZetaSqlLocalService: grpc.ServiceClientConstructor } };
  };
  serviceConstructor = root.zetasql.local_service.ZetaSqlLocalService;
  return serviceConstructor;
}

/** gRPC limits default to 4 MiB; fixture tables and catalogs can be larger. */
const MESSAGE_LIMIT_BYTES = 256 * 1024 * 1024;

export function createZetaSqlClient(address: string): ZetaSqlClient {
  const Service = loadService();
  const stub = new Service(address, grpc.credentials.createInsecure(), {
    "grpc.max_send_message_length": MESSAGE_LIMIT_BYTES,
    "grpc.max_receive_message_length": MESSAGE_LIMIT_BYTES,
  }) as unknown as grpc.Client & Record<string, UnaryMethod>;

  const call = <T>(method: string, request: object, timeoutMs = 60_000): Promise<T> =>
    new Promise((resolve, reject) => {
      stub[method](request, { deadline: Date.now() + timeoutMs }, (error, response) => {
        if (error) reject(error);
        else resolve(response as T);
      });
    });

  return {
    analyze: (request) => call("analyze", request),
    evaluateQuery: (request) => call("evaluateQuery", request),
    registerCatalog: (request) => call("registerCatalog", request),
    unregisterCatalog: async (request) => {
      await call("unregisterCatalog", request);
    },
    getLanguageOptions: (request) => call("getLanguageOptions", request),
    ping: async () => {
      try {
        await call("formatSql", { sql: "SELECT 1" }, 2_000);
        return true;
      } catch {
        return false;
      }
    },
    close: () => stub.close(),
  };
}

/** A gRPC error from the service (status code + ZetaSQL's message), or undefined. */
export function asServiceError(error: unknown): grpc.ServiceError | undefined {
  return error instanceof Error && "code" in error && "details" in error
    ? (error as grpc.ServiceError)
    : undefined;
}
