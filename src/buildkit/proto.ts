import { fileURLToPath } from 'node:url';
import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';

/**
 * Our own .proto files (src/buildkit/proto/, subsets of the upstream BuildKit, fsutil and gRPC health
 * definitions). They sit next to this module: under vitest that is src/buildkit/proto, after `npm run
 * build` the build script copies them to dist/src/buildkit/proto (scripts/copy-assets.mjs).
 */
const PROTO_DIR = fileURLToPath(new URL('./proto/', import.meta.url));

/**
 * Decoding choices: upstream field names as written (keepCase), 64-bit integers as JS numbers (sizes
 * and nanosecond times fit in 2^53 for any real build; timestamps come as {seconds, nanos}), enums as
 * numbers (the packet type is switched on), defaults filled so absent scalars read as 0/''/false.
 */
const LOAD_OPTIONS: Options = { keepCase: true, longs: Number, enums: Number, defaults: true, arrays: true, objects: false, includeDirs: [PROTO_DIR] };

let loaded: GrpcObject | undefined;

function root(): GrpcObject {
  loaded ??= loadPackageDefinition(loadSync(['control.proto', 'session.proto', 'secrets.proto', 'health.proto'], LOAD_OPTIONS));
  return loaded;
}

function lookup(path: string): ServiceClientConstructor {
  let node: unknown = root();
  for (const part of path.split('.')) node = (node as Record<string, unknown>)[part];
  if (typeof node !== 'function') throw new Error(`proto service ${path} not found in src/buildkit/proto`);
  return node as ServiceClientConstructor;
}

/** The Control client constructor (moby.buildkit.v1.Control). */
export const controlService = (): ServiceClientConstructor => lookup('moby.buildkit.v1.Control');

/** Service definitions the session serves, keyed by their full gRPC service name. */
export function sessionServiceDefinitions(): Record<'FileSync' | 'Auth' | 'Secrets' | 'Health', ServiceDefinition> {
  return {
    FileSync: lookup('moby.filesync.v1.FileSync').service,
    Auth: lookup('moby.filesync.v1.Auth').service,
    Secrets: lookup('moby.buildkit.secrets.v1.Secrets').service,
    Health: lookup('grpc.health.v1.Health').service,
  };
}

/** Full gRPC method paths of a service definition (`/moby.filesync.v1.FileSync/DiffCopy`). */
export const methodPaths = (def: ServiceDefinition): string[] => Object.values(def).map((m) => m.path);
