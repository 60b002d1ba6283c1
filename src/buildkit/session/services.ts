import { status as grpcStatus, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';

/** A registry's credentials as the session hands them to BuildKit. */
export interface SessionCredentials {
  username: string;
  password: string;
  /** An identity (refresh) token: BuildKit then uses the OAuth2 refresh_token grant. */
  identityToken?: string | undefined;
}

/** Credentials for a registry host (`127.0.0.1:5000`, `ghcr.io`, `registry-1.docker.io`); undefined is anonymous. */
export type RegistryCredentials = (host: string) => Promise<SessionCredentials | undefined>;

/**
 * moby.filesync.v1.Auth/Credentials (moby/buildkit session/auth/auth.proto): BuildKit asks the
 * session for credentials of each registry it pulls from or pushes to; an empty answer means anonymous.
 * An identity token goes as the Secret with no Username, as Docker's own auth provider answers. A lookup
 * that fails (a credential helper that is missing) fails the pull with its message, and `onError` keeps the
 * error so the build reports it rather than BuildKit's wrapping of it.
 */
export function credentialsHandler(lookup: RegistryCredentials | undefined, onError?: (err: unknown) => void) {
  return (call: ServerUnaryCall<{ Host: string }, unknown>, callback: sendUnaryData<{ Username: string; Secret: string }>) => {
    if (!lookup) return callback(null, { Username: '', Secret: '' });
    lookup(call.request.Host).then(
      (found) => {
        if (!found) callback(null, { Username: '', Secret: '' });
        else if (found.identityToken) callback(null, { Username: '', Secret: found.identityToken });
        else callback(null, { Username: found.username, Secret: found.password });
      },
      (err: unknown) => {
        onError?.(err);
        callback({ code: grpcStatus.PERMISSION_DENIED, details: (err as Error).message });
      },
    );
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
