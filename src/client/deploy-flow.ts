import { isSuccessState } from '../core/types.js';
import type { BuildView } from '../server/index.js';
import type { ApiClient } from './api-client.js';
import { packContext } from './context-pack.js';

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
  hooks.queued?.(queued);
  if (request.wait === false) return { build: queued, succeeded: isSuccessState(queued.state), revision: undefined, url: undefined };
  await client.followLogs(queued.id, (l) => hooks.log?.(l));
  // The revision the build's promote stage made, as the API reads it (core/stage-outputs.ts promotedRevision).
  const build = await client.getBuild(queued.id);
  return { build, succeeded: isSuccessState(build.state), revision: build.revision?.name, url: build.revision?.url };
}
