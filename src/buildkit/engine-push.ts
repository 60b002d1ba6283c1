import { request } from 'node:http';
import { SlipwayError } from '../core/errors.js';
import { isDigest, type Digest } from '../core/types.js';

export interface EnginePushOptions {
  /** Docker Engine socket. */
  socket: string;
  /** Repository without tag (`127.0.0.1:5000/slipway/hello`). */
  repository: string;
  tag: string;
  /** Credentials for the registry; anonymous when absent. */
  auth?: { username: string; password: string; identityToken?: string | undefined; serveraddress: string } | undefined;
  signal?: AbortSignal | undefined;
  onLine?: ((line: string) => void) | undefined;
}

interface PushMessage {
  status?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { Tag?: string; Digest?: string; Size?: number };
}

/**
 * `X-Registry-Auth` as the Engine reads it (api/types/registry AuthConfig, base64url JSON): user and
 * password, or an identity token; `{}` for anonymous. It travels only over the Engine's unix socket.
 */
export function registryAuthHeader(auth: EnginePushOptions['auth']): string {
  const config = !auth
    ? {}
    : auth.identityToken
      ? { identitytoken: auth.identityToken, serveraddress: auth.serveraddress }
      : { username: auth.username, password: auth.password, serveraddress: auth.serveraddress };
  // Padded: the Engine decodes with Go's base64.URLEncoding, which refuses unpadded input (and then pushes anonymously).
  return Buffer.from(JSON.stringify(config)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/**
 * Pushes an image the Engine's `moby` exporter stored, through the Engine API (`POST
 * /images/{name}/push`, Docker Engine API v1.41): the Engine's BuildKit has no `image` exporter with
 * `push=true`. `X-Registry-Auth` is base64url JSON, `{}` for anonymous. The answer is a
 * JSON message stream; its `aux.Digest` is the manifest digest — the one to record, since the moby
 * exporter's `containerimage.digest` is the config digest.
 */
export function pushWithEngine(options: EnginePushOptions): Promise<Digest> {
  const auth = registryAuthHeader(options.auth);
  const path = `/images/${encodeURIComponent(options.repository)}/push?tag=${encodeURIComponent(options.tag)}`;
  const fail = (message: string, cause?: unknown) =>
    /\b(unauthorized|authentication required|no basic auth credentials|denied|401|403)\b/i.test(message)
      ? new SlipwayError(
          'SLW_REGISTRY_AUTH',
          `registry ${options.repository.split('/')[0]}, repository ${options.repository.split('/').slice(1).join('/')} (scope pull,push): the push was refused (${message}); check the credentials Slipway has for it (${options.auth ? 'credentials were sent' : 'none were found, so it pushed anonymously'}) and that they may push`,
          { cause },
        )
      : new SlipwayError(
          'SLW_BUILD_PUSH',
          `pushing ${options.repository}:${options.tag} failed: ${message}; check that the registry is reachable from the Docker Engine`,
          { cause },
        );
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath: options.socket, method: 'POST', path, headers: { 'x-registry-auth': auth, 'content-length': 0 }, signal: options.signal },
      (res) => {
        let buffered = '';
        let digest: string | undefined;
        let error: string | undefined;
        const take = (line: string) => {
          if (!line.trim()) return;
          let msg: PushMessage;
          try {
            msg = JSON.parse(line) as PushMessage;
          } catch {
            return;
          }
          if (msg.error) error = msg.errorDetail?.message ?? msg.error;
          if (msg.aux?.Digest) digest = msg.aux.Digest;
          // Per-layer progress bars are noise in a build log; the status lines without an id are not.
          if (msg.status && !msg.id) options.onLine?.(msg.status);
          else if (msg.status && msg.id && /^(Pushed|Layer already exists|Mounted from)/.test(msg.status)) options.onLine?.(`${msg.id}: ${msg.status}`);
        };
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          const lines = buffered.split('\n');
          buffered = lines.pop() ?? '';
          lines.forEach(take);
        });
        res.on('end', () => {
          take(buffered);
          if (res.statusCode !== 200) return reject(fail(`Docker Engine answered ${res.statusCode}${error ? `: ${error}` : ''}`));
          if (error) return reject(fail(error));
          if (!digest || !isDigest(digest)) return reject(fail('the Engine did not report a manifest digest'));
          resolve(digest);
        });
        res.on('error', (err) => reject(fail(err.message, err)));
      },
    );
    req.on('error', (err) => reject(options.signal?.aborted ? err : fail(err.message, err)));
    req.end();
  });
}
