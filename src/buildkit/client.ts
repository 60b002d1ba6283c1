import { readFileSync } from 'node:fs';
import { formatHostPort } from '../core/host-port.js';
import {
  credentials as grpcCredentials,
  Metadata,
  status as grpcStatus,
  type Client,
  type ClientDuplexStream,
  type ClientReadableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { SlipwayError } from '../core/errors.js';
import { describeAddress, parseBuildkitAddress, type BuildkitAddress } from './address.js';
import { DockerUpgradeCredentials } from './docker-upgrade.js';
import { controlService } from './proto.js';
import type { SolveRequest, SolveResponse, StatusResponse, UsageRecord, WorkerRecord } from './types.js';

type Callback<T> = (err: ServiceError | null, value?: T) => void;

/** The Control methods as grpc-js's dynamic client exposes them. */
interface ControlStub extends Client {
  ListWorkers(req: { filter: string[] }, md: Metadata, options: object, cb: Callback<{ record: WorkerRecord[] }>): unknown;
  DiskUsage(req: { filter: string[] }, md: Metadata, options: object, cb: Callback<{ record: UsageRecord[] }>): unknown;
  Prune(req: { filter: string[]; all: boolean; keepDuration: number; keepBytes: number }): ClientReadableStream<UsageRecord>;
  Solve(req: SolveRequest, md: Metadata, options: object, cb: Callback<SolveResponse>): { cancel(): void };
  Status(req: { Ref: string }): ClientReadableStream<StatusResponse>;
  Session(md: Metadata): ClientDuplexStream<{ data: Buffer }, { data: Buffer }>;
}

/** Messages and sizes: a context file is sent in 32 KiB DATA packets, Status can carry large logs. */
const CHANNEL_OPTIONS = {
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
  // One connection per client; BuildKit closes idle sessions itself.
  'grpc.keepalive_time_ms': 30_000,
  'grpc.enable_retries': 0,
};

/**
 * A connection to BuildKit's `moby.buildkit.v1.Control` service (moby/buildkit
 * api/services/control/control.proto) over one of the three transports of `address.ts`.
 */
export class BuildkitClient {
  readonly address: BuildkitAddress;
  private readonly stub: ControlStub;

  constructor(address: string | BuildkitAddress) {
    this.address = typeof address === 'string' ? parseBuildkitAddress(address) : address;
    const a = this.address;
    const Control = controlService();
    if (a.kind === 'docker') {
      // grpc-js connects to the Engine socket; the credentials' connector upgrades it to HTTP/2.
      this.stub = new Control(`unix://${a.socket}`, new DockerUpgradeCredentials(), {
        ...CHANNEL_OPTIONS,
        'grpc.default_authority': 'docker',
      }) as unknown as ControlStub;
    } else if (a.kind === 'unix') {
      this.stub = new Control(`unix://${a.socket}`, grpcCredentials.createInsecure(), {
        ...CHANNEL_OPTIONS,
        'grpc.default_authority': 'buildkitd',
      }) as unknown as ControlStub;
    } else {
      const creds = a.tls
        ? grpcCredentials.createSsl(readFileSync(a.tls.ca), a.tls.key ? readFileSync(a.tls.key) : null, a.tls.cert ? readFileSync(a.tls.cert) : null)
        : grpcCredentials.createInsecure();
      this.stub = new Control(formatHostPort(a), creds, CHANNEL_OPTIONS) as unknown as ControlStub;
    }
  }

  /** The address for messages (`docker:///var/run/docker.sock`). */
  get where(): string {
    return describeAddress(this.address);
  }

  listWorkers(timeoutMs = 15_000): Promise<WorkerRecord[]> {
    return new Promise((resolve, reject) => {
      this.stub.ListWorkers({ filter: [] }, new Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) =>
        err ? reject(this.rpcError(err, 'ListWorkers')) : resolve(res?.record ?? []),
      );
    });
  }

  diskUsage(): Promise<UsageRecord[]> {
    return new Promise((resolve, reject) => {
      this.stub.DiskUsage({ filter: [] }, new Metadata(), {}, (err, res) => (err ? reject(this.rpcError(err, 'DiskUsage')) : resolve(res?.record ?? [])));
    });
  }

  /** Removes cache records until what is left fits `keepBytes`; resolves with what was removed. */
  prune(keepBytes: number): Promise<UsageRecord[]> {
    return new Promise((resolve, reject) => {
      const removed: UsageRecord[] = [];
      const stream = this.stub.Prune({ filter: [], all: false, keepDuration: 0, keepBytes });
      stream.on('data', (r: UsageRecord) => removed.push(r));
      stream.on('error', (err: ServiceError) => reject(this.rpcError(err, 'Prune')));
      stream.on('end', () => resolve(removed));
    });
  }

  /**
   * Solve; the signal cancels the call, which makes BuildKit cancel the job and stop its running
   * steps (about 1.5 s for a RUN). Errors are left as gRPC errors: the caller knows which
   * step failed from the Status stream and classifies them (errors.ts).
   */
  solve(request: SolveRequest, signal?: AbortSignal): Promise<SolveResponse> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
      const call = this.stub.Solve(request, new Metadata(), {}, (err, res) => {
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(res ?? { ExporterResponse: {} });
      });
      const onAbort = () => call.cancel();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Progress of the solve with this ref; ends when the job ends. */
  status(ref: string): ClientReadableStream<StatusResponse> {
    return this.stub.Status({ Ref: ref });
  }

  /** The raw session stream (session/session.ts runs HTTP/2 inside it). */
  sessionStream(metadata: Metadata): ClientDuplexStream<{ data: Buffer }, { data: Buffer }> {
    return this.stub.Session(metadata);
  }

  close(): void {
    this.stub.close();
  }

  /** UNAVAILABLE/DEADLINE on a plain call means BuildKit is not there: retryable, and says where. */
  rpcError(err: ServiceError, method: string): SlipwayError {
    if (err.code === grpcStatus.UNAVAILABLE || err.code === grpcStatus.DEADLINE_EXCEEDED) {
      return new SlipwayError(
        'SLW_BUILDKIT_UNREACHABLE',
        `BuildKit at ${this.where} did not answer (${err.details || err.message}); check that it runs there, or set the buildkit config key`,
        { cause: err, details: { address: this.where } },
      );
    }
    return new SlipwayError('SLW_BUILDKIT_PROTOCOL', `BuildKit ${method} at ${this.where} failed: ${err.details || err.message}`, { cause: err });
  }
}
