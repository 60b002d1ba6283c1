import { randomUUID } from 'node:crypto';
import { Metadata, Server, ServerCredentials, type ServerDuplexStream, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { BuildkitClient } from '../client.js';
import { methodPaths, sessionServiceDefinitions } from '../proto.js';
import { diffCopyHandler, type TransferStats } from './filesync.js';
import { credentialsHandler, healthHandler, secretsHandler, type RegistryCredentials } from './services.js';
import { SessionTunnel } from './tunnel.js';

export interface SessionOptions {
  /** Shown by BuildKit (`docker buildx du`, logs); the app or directory name. */
  name: string;
  /**
   * The cache identity of the directories: BuildKit keeps the last copy of each directory under
   * (shared key, directory name) and, when they are the same next time, asks only for changed files.
   */
  sharedKey: string;
  /** Local directories by the name the frontend asks for (`context`, `dockerfile`). */
  dirs: Readonly<Record<string, string>>;
  secrets?: ReadonlyMap<string, Buffer>;
  registryCredentials?: RegistryCredentials | undefined;
  /** Told of a credential lookup that failed (its error is what the build should report). */
  onCredentialsError?: ((err: unknown) => void) | undefined;
}

/**
 * A BuildKit session (moby/buildkit session/grpc.go, manager.go): Slipway opens `Control.Session`, a
 * bidirectional byte stream; BuildKit dials HTTP/2 through it and calls the services the session
 * advertised in its `x-docker-expose-session-*` metadata. Our side is a grpc-js Server fed that
 * connection through a connection injector.
 */
export class BuildSession {
  readonly id = randomUUID();
  /** What FileSync served per directory name. */
  readonly transfers = new Map<string, TransferStats>();
  private readonly server = new Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024, 'grpc.max_send_message_length': 64 * 1024 * 1024 });
  private tunnel: SessionTunnel | undefined;
  private closed = false;

  constructor(private readonly options: SessionOptions) {
    const defs = sessionServiceDefinitions();
    const dirs = new Map(Object.entries(options.dirs));
    this.server.addService(defs.FileSync, { DiffCopy: diffCopyHandler(dirs, this.transfers) as (call: ServerDuplexStream<unknown, unknown>) => void });
    this.server.addService(defs.Auth, {
      Credentials: credentialsHandler(options.registryCredentials, options.onCredentialsError),
    } as UntypedServiceImplementation);
    this.server.addService(defs.Secrets, { GetSecret: secretsHandler(options.secrets ?? new Map()) } as UntypedServiceImplementation);
    this.server.addService(defs.Health, { Check: healthHandler() } as UntypedServiceImplementation);
  }

  /** Opens the session on BuildKit; the id is what SolveRequest.Session names. */
  start(client: BuildkitClient): void {
    const defs = sessionServiceDefinitions();
    const md = new Metadata();
    md.set('x-docker-expose-session-uuid', this.id);
    md.set('x-docker-expose-session-name', this.options.name);
    md.set('x-docker-expose-session-sharedkey', this.options.sharedKey);
    for (const def of [defs.FileSync, defs.Auth, defs.Secrets, defs.Health]) {
      for (const path of methodPaths(def)) md.add('x-docker-expose-session-grpc-method', path);
    }
    const stream = client.sessionStream(md);
    // A failed or ended session shows up as the Solve's error; keep the stream's own error quiet.
    stream.on('error', () => undefined);
    this.tunnel = new SessionTunnel(stream);
    this.tunnel.on('error', () => undefined);
    const injector = this.server.createConnectionInjector(ServerCredentials.createInsecure());
    injector.injectConnection(this.tunnel);
    this.injector = injector;
  }

  private injector: { destroy(): void } | undefined;

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.injector?.destroy();
    this.tunnel?.destroy();
    this.server.forceShutdown();
  }
}
