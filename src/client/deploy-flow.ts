import type { BuildView } from '../server/index.js';
import type { ApiClient } from './api-client.js';
import { packContext } from './context-pack.js';

/** States a build ends in when it did all it was asked (as `slipway logs -f` counts them). */
export const SUCCESS_STATES = new Set(['fetched', 'built', 'signed', 'ready']);

export interface DeployRequest {
  app: string;
  dir: string;
  dockerfile?: string | undefined;
  target?: string | undefined;
  tag?: string | undefined;
  ref?: string | undefined;
  /** Follow the build's log until it ends (default true). */
  wait?: boolean;
}

export interface DeployHooks {
  packed?(files: number, bytes: number): void;
  queued?(build: BuildView): void;
  log?(line: { stage: string | null; level: string; line: string }): void;
}

export interface DeployResult {
  build: BuildView;
  succeeded: boolean;
  revision: string | undefined;
  url: string | undefined;
}

/**
 * The revision a build produced and its URL, once serving reports them in the build view (the promote
 * stage records them); undefined before. Accepts `revision` as a name or as `{name, url}`.
 */
export function revisionOf(build: BuildView): { revision: string | undefined; url: string | undefined } {
  const view = build as BuildView & { revision?: unknown; revisionUrl?: unknown };
  const r = view.revision;
  if (r && typeof r === 'object') {
    const { name, url } = r as { name?: unknown; url?: unknown };
    return { revision: typeof name === 'string' ? name : undefined, url: typeof url === 'string' ? url : undefined };
  }
  return { revision: typeof r === 'string' ? r : undefined, url: typeof view.revisionUrl === 'string' ? view.revisionUrl : undefined };
}

/**
 * Pack, upload, follow: what `slipway deploy` and the GitHub Action both do; they differ in
 * how they show it.
 */
export async function deployContext(client: ApiClient, request: DeployRequest, hooks: DeployHooks = {}): Promise<DeployResult> {
  const packed = await packContext(request.dir, { dockerfile: request.dockerfile });
  hooks.packed?.(packed.files, packed.archive.length);
  return follow(
    client,
    await client.uploadContext(request.app, packed.archive, { target: request.target, ref: request.ref, tag: request.tag }),
    request,
    hooks,
  );
}

/** `slipway deploy <image@digest>`: the image through the image and promote gates, followed like an upload. */
export async function deployImage(
  client: ApiClient,
  request: Omit<DeployRequest, 'dir' | 'dockerfile' | 'ref'> & { image: string },
  hooks: DeployHooks = {},
): Promise<DeployResult> {
  return follow(client, await client.promoteImage(request.app, { image: request.image, target: request.target, tag: request.tag }), request, hooks);
}

async function follow(client: ApiClient, queued: BuildView, request: { wait?: boolean }, hooks: DeployHooks): Promise<DeployResult> {
  let build = queued;
  hooks.queued?.(build);
  if (request.wait !== false) {
    await client.followLogs(build.id, (l) => hooks.log?.(l));
    build = await client.getBuild(build.id);
  }
  return { build, succeeded: SUCCESS_STATES.has(build.state), ...revisionOf(build) };
}
