import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { SlipwayError } from '../core/errors.js';
import { isDigest, type Digest } from '../core/types.js';
import type { BuildkitClient } from './client.js';
import { pushWithEngine } from './engine-push.js';
import { classifySolveError } from './errors.js';
import { ProgressTracker, type BuildStep, type ProgressLine } from './progress.js';
import { resolvedImage } from './resolutions.js';
import type { TransferStats } from './session/filesync.js';
import type { RegistryCredentials } from './session/services.js';
import { BuildSession } from './session/session.js';
import type { WorkerRecord } from './types.js';

export interface BuildImageOptions {
  /** Directory sent as the build context. */
  contextDir: string;
  /** Dockerfile path relative to the context directory. Default `Dockerfile`. */
  dockerfile?: string | undefined;
  /** Stage to build (`--target`). Default: the last stage. */
  target?: string | undefined;
  buildArgs?: Readonly<Record<string, string>> | undefined;
  labels?: Readonly<Record<string, string>> | undefined;
  /** Build secrets by id, for `RUN --mount=type=secret,id=…`; served by the session, never in a layer. */
  secrets?: ReadonlyMap<string, Buffer> | undefined;
  /** Registry credentials by host, for pulls during the build (base images) and for the push. */
  registryCredentials?: RegistryCredentials | undefined;
  /** Image repository without tag (`127.0.0.1:5000/slipway/hello`). */
  repository: string;
  /** Tag for humans (the short commit); the image is recorded by digest. */
  tag: string;
  /** Push to the registry (default true). Without a push the digest is the image config's. */
  push?: boolean | undefined;
  /**
   * Cache identity of the context (one per app and context directory): with the same
   * key BuildKit asks only for files that changed since the last build.
   */
  sharedKey: string;
  /** Session name BuildKit shows. Default: the repository. */
  sessionName?: string | undefined;
  noCache?: boolean | undefined;
  signal?: AbortSignal | undefined;
  /** Progress as ordered log lines. */
  onLine?: ProgressLine | undefined;
  /**
   * Called with each image reference BuildKit resolves or pulls (as its progress names it) and the vertex
   * name. Throwing refuses the image: the Solve is cancelled, nothing is pushed, and buildImage rejects
   * with the thrown error. With this set, a progress stream that does not end fails the build, since an
   * image it would have named could not be checked.
   */
  onImage?: ((ref: string, vertex: string) => void) | undefined;
  /** The build's steps once the Solve has ended, whether it succeeded or not (awaited). */
  onSteps?: ((steps: BuildStep[]) => void | Promise<void>) | undefined;
}

export interface BuildImageResult {
  /** Manifest digest when pushed; the image config digest otherwise. */
  digest: Digest;
  pushed: boolean;
  /** `<repository>@<digest>` when pushed. */
  reference: string;
  /** `<repository>:<tag>`. */
  tagged: string;
  steps: BuildStep[];
  /** What the session's FileSync served, by local directory name (`context`, `dockerfile`). */
  transfers: Record<string, TransferStats>;
  durationMs: number;
}

/** How the built image leaves BuildKit: Docker Engine stores it (moby exporter) and pushes through its API; buildkitd pushes itself. */
type ExportPath = { kind: 'engine'; socket: string } | { kind: 'registry' };

/**
 * ListWorkers tells Docker Engine's BuildKit (one worker with id `moby`, which has only the `moby`
 * exporter) from a standalone buildkitd (OCI or containerd workers, `image` exporter with push).
 */
export function exportPathFor(client: BuildkitClient, workers: readonly WorkerRecord[]): ExportPath {
  const engine = workers.some((w) => w.ID === 'moby');
  if (!engine) return { kind: 'registry' };
  if (client.address.kind !== 'docker') {
    throw new SlipwayError(
      'SLW_CONFIG_INVALID',
      `BuildKit at ${client.where} is Docker Engine's: address it as docker:///path/to/docker.sock so Slipway can push through the Engine API`,
    );
  }
  return { kind: 'engine', socket: client.address.socket };
}

/**
 * Builds a local directory with the Dockerfile frontend (`dockerfile.v0`, built into every BuildKit:
 * `# syntax=` images would need a registry) and pushes the result. One session per build serves the
 * context and the Dockerfile directory, secrets and registry credentials; the Status stream runs
 * beside the Solve and becomes log lines and steps; the signal cancels the Solve, which stops running
 * steps.
 */
export async function buildImage(client: BuildkitClient, options: BuildImageOptions): Promise<BuildImageResult> {
  const started = performance.now();
  const contextDir = resolve(options.contextDir);
  const dockerfilePath = resolve(contextDir, options.dockerfile ?? 'Dockerfile');
  await assertInputs(contextDir, dockerfilePath, options.dockerfile ?? 'Dockerfile');
  const push = options.push ?? true;

  // ListWorkers runs while the session opens: both wait on the same new connection, and the export
  // path is needed only for the Solve request.
  const workers = client.listWorkers();
  workers.catch(() => undefined);
  const tagged = `${options.repository}:${options.tag}`;

  const session = new BuildSession({
    name: options.sessionName ?? options.repository,
    sharedKey: options.sharedKey,
    dirs: { context: contextDir, dockerfile: dirname(dockerfilePath) },
    secrets: options.secrets,
    registryCredentials: options.registryCredentials,
    onCredentialsError: (err) => (credentialsError ??= err),
  });
  let credentialsError: unknown;
  // The resolution check: an image refused mid-build cancels the Solve through its own signal.
  const refusal = new AbortController();
  let refused: unknown;
  const signal = options.signal ? AbortSignal.any([options.signal, refusal.signal]) : refusal.signal;
  const tracker = new ProgressTracker(options.onLine, (name) => {
    const image = options.onImage && refused === undefined ? resolvedImage(name) : undefined;
    if (image === undefined) return;
    try {
      options.onImage!(image, name);
    } catch (err) {
      refused = err ?? new Error(`image ${image} refused`);
      refusal.abort();
    }
  });
  const ref = randomUUID();

  const frontendAttrs: Record<string, string> = {
    filename: basename(dockerfilePath),
    // No bridge network where Slipway runs the Engine (docs/architecture.md): every RUN
    // gets none; a build that needs the network is not reproducible anyway.
    'force-network-mode': 'none',
  };
  if (options.target) frontendAttrs.target = options.target;
  if (options.noCache) frontendAttrs['no-cache'] = '';
  for (const [k, v] of Object.entries(options.buildArgs ?? {})) frontendAttrs[`build-arg:${k}`] = v;
  for (const [k, v] of Object.entries(options.labels ?? {})) frontendAttrs[`label:${k}`] = v;

  session.start(client);
  const status = client.status(ref);
  const statusDone = new Promise<void>((resolveStatus) => {
    status.on('data', (res) => tracker.handle(res));
    // The stream ends with the job; a cancelled or failed Solve may end it with an error instead.
    status.on('error', () => resolveStatus());
    status.on('end', () => resolveStatus());
  });

  let exportPath: ExportPath;
  try {
    exportPath = exportPathFor(client, await workers);
  } catch (err) {
    status.cancel();
    session.close();
    throw err;
  }
  const exporterAttrs: Record<string, string> =
    exportPath.kind === 'engine'
      ? { name: tagged }
      : { name: tagged, push: String(push), ...(/^(127\.|localhost[:/])/.test(options.repository) ? { 'registry.insecure': 'true' } : {}) };

  let exporterResponse: Record<string, string>;
  try {
    const res = await client.solve(
      {
        Ref: ref,
        Session: session.id,
        Frontend: 'dockerfile.v0',
        FrontendAttrs: frontendAttrs,
        Exporter: exportPath.kind === 'engine' ? 'moby' : 'image',
        ExporterAttrs: exporterAttrs,
        Entitlements: [],
      },
      signal,
    );
    exporterResponse = res.ExporterResponse;
  } catch (err) {
    await Promise.race([statusDone, delay(2000)]);
    status.cancel();
    tracker.finish();
    session.close();
    await options.onSteps?.(tracker.steps());
    if (refused !== undefined) throw refused;
    if (options.signal?.aborted) throw new SlipwayError('SLW_BUILD_CANCELED', 'build canceled', { cause: err });
    if (credentialsError !== undefined) throw credentialsError;
    throw classifySolveError(err, tracker.failedStep(), client.where);
  }
  // The last vertices (exporting) complete on the Status stream just after Solve answers. When images are
  // checked, every vertex must have been seen before the image is pushed.
  const ended = await Promise.race([statusDone.then(() => true), delay(options.onImage ? 15_000 : 2000).then(() => false)]);
  if (!ended) status.cancel();
  tracker.finish();
  session.close();
  await options.onSteps?.(tracker.steps());
  if (refused !== undefined) throw refused;
  if (!ended && options.onImage) {
    throw new SlipwayError(
      'SLW_BUILD_FAILED',
      `BuildKit at ${client.where} answered the build but its progress stream did not end within 15 s, so the images it resolved could not all be checked; build again, and check buildkitd's health if it keeps happening`,
    );
  }

  let digest: string | undefined;
  if (exportPath.kind === 'engine' && push) {
    const host = options.repository.split('/')[0]!;
    const creds = await options.registryCredentials?.(host);
    options.onLine?.(`pushing ${tagged}`, 'info');
    digest = await pushWithEngine({
      socket: exportPath.socket,
      repository: options.repository,
      tag: options.tag,
      auth: creds ? { ...creds, serveraddress: host } : undefined,
      signal: options.signal,
      onLine: (line) => options.onLine?.(line, 'info'),
    });
  } else {
    digest = exporterResponse['containerimage.digest'];
  }
  if (!digest || !isDigest(digest))
    throw new SlipwayError('SLW_BUILD_FAILED', `BuildKit did not report the image digest (got ${JSON.stringify(exporterResponse)})`);
  return {
    digest,
    pushed: push,
    reference: `${options.repository}@${digest}`,
    tagged,
    steps: tracker.steps(),
    transfers: Object.fromEntries(session.transfers),
    durationMs: Math.round(performance.now() - started),
  };
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

async function assertInputs(contextDir: string, dockerfilePath: string, dockerfile: string): Promise<void> {
  const isDir = await stat(contextDir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) throw new SlipwayError('SLW_BUILD_CONTEXT', `build context ${contextDir} is not a directory`);
  const exists = await stat(dockerfilePath).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!exists) {
    throw new SlipwayError(
      'SLW_BUILD_DOCKERFILE',
      `the build context has no Dockerfile at "${dockerfile}"; add one, or name its path within the context (the app's dockerfile key, or --file)`,
    );
  }
}
