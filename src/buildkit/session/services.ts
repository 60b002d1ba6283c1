import { status as grpcStatus, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';

/** Registry credentials by host (`127.0.0.1:5000`, `ghcr.io`), for pulls BuildKit makes during the build. */
export type RegistryCredentials = Readonly<Record<string, { username: string; password: string }>>;

/**
 * moby.filesync.v1.Auth/Credentials (moby/buildkit session/auth/auth.proto): BuildKit asks the
 * session for credentials of each registry it pulls from; an empty answer means anonymous.
 */
export function credentialsHandler(credentials: RegistryCredentials) {
  return (call: ServerUnaryCall<{ Host: string }, unknown>, callback: sendUnaryData<{ Username: string; Secret: string }>) => {
    const found = credentials[call.request.Host];
    callback(null, found ? { Username: found.username, Secret: found.password } : { Username: '', Secret: '' });
  };
}

/**
 * moby.buildkit.secrets.v1.Secrets/GetSecret (session/secrets/secrets.proto): the value of a
 * `RUN --mount=type=secret,id=…` is fetched from the session when the step runs and mounted on a
 * tmpfs, so it never enters a layer, the cache key or the build log. Unknown ids are NOT_FOUND, as
 * upstream's secretsprovider answers (BuildKit then fails the step unless the mount is optional).
 */
export function secretsHandler(secrets: ReadonlyMap<string, Buffer>) {
  return (call: ServerUnaryCall<{ ID: string }, unknown>, callback: sendUnaryData<{ data: Buffer }>) => {
    const value = secrets.get(call.request.ID);
    if (value === undefined) callback({ code: grpcStatus.NOT_FOUND, details: `secret ${call.request.ID} not found` });
    else callback(null, { data: value });
  };
}

/** grpc.health.v1.Health/Check: BuildKit probes the session every second and drops it on failure. */
export function healthHandler() {
  return (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<{ status: number }>) => callback(null, { status: 1 /* SERVING */ });
}
