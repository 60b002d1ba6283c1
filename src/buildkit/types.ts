/**
 * The decoded shapes of the BuildKit messages Slipway uses (src/buildkit/proto/control.proto), as
 * @grpc/proto-loader produces them with the options in proto.ts.
 */

export interface Timestamp {
  seconds: number;
  nanos: number;
}

export interface WorkerRecord {
  ID: string;
  Labels: Record<string, string>;
  platforms: { Architecture: string; OS: string; Variant: string }[];
  GCPolicy: { all: boolean; keepDuration: number; keepBytes: number; filters: string[] }[];
}

export interface UsageRecord {
  ID: string;
  Mutable: boolean;
  InUse: boolean;
  Size: number;
  Description: string;
  RecordType: string;
  Shared: boolean;
  UsageCount: number;
}

export interface SolveRequest {
  Ref: string;
  Exporter: string;
  ExporterAttrs: Record<string, string>;
  Session: string;
  Frontend: string;
  FrontendAttrs: Record<string, string>;
  Entitlements: string[];
}

export interface SolveResponse {
  ExporterResponse: Record<string, string>;
}

export interface Vertex {
  digest: string;
  inputs: string[];
  name: string;
  cached: boolean;
  started: Timestamp | null;
  completed: Timestamp | null;
  error: string;
}

export interface VertexStatus {
  ID: string;
  vertex: string;
  name: string;
  current: number;
  total: number;
  started: Timestamp | null;
  completed: Timestamp | null;
}

export interface VertexLog {
  vertex: string;
  timestamp: Timestamp | null;
  /** 1 stdout, 2 stderr. */
  stream: number;
  msg: Buffer;
}

export interface StatusResponse {
  vertexes: Vertex[];
  statuses: VertexStatus[];
  logs: VertexLog[];
}

export const toMillis = (t: Timestamp | null | undefined): number | null => (t ? t.seconds * 1000 + Math.floor(t.nanos / 1e6) : null);
