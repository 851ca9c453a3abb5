/**
 * The few shapes of `local_service.proto` messages this project reads, as the client's loader
 * options deliver them (camelCase fields, int64 and enums as strings, bytes as Buffers, the set
 * oneof member named in a string field). Only what is read is typed.
 */

export interface TypeProto {
  typeKind?: string;
  arrayType?: { elementType?: TypeProto };
  structType?: { field?: { fieldName?: string; fieldType?: TypeProto }[] };
}

export interface ValueProto {
  value?: string;
  int64Value?: string;
  int32Value?: number;
  uint64Value?: string;
  uint32Value?: number;
  boolValue?: boolean;
  doubleValue?: number;
  floatValue?: number;
  stringValue?: string;
  bytesValue?: Buffer;
  dateValue?: number;
  numericValue?: Buffer;
  bignumericValue?: Buffer;
  jsonValue?: string;
  timestampValue?: { seconds?: string; nanos?: number };
  arrayValue?: { element?: ValueProto[] };
  structValue?: { field?: ValueProto[] };
}

export interface SimpleColumnProto {
  name?: string;
  type?: TypeProto;
}

export interface EvaluateQueryResponse {
  content?: { tableData?: { row?: { cell?: ValueProto[] }[] } };
  prepared?: { columns?: SimpleColumnProto[] };
}

export interface OutputColumnProto {
  name?: string;
  column?: { name?: string; type?: TypeProto };
}

export interface AnalyzeResponse {
  result?: string;
  resolvedStatement?: {
    node?: string;
    resolvedQueryStmtNode?: { outputColumnList?: OutputColumnProto[] };
  };
  resumeBytePosition?: number;
}

export interface RegisterResponse {
  registeredId?: string;
}

export interface LanguageOptionsProto {
  nameResolutionMode?: string;
  productMode?: string;
  enabledLanguageFeatures?: string[];
  supportedStatementKinds?: string[];
}
