import { SlipwayError } from '../../core/errors.js';
import { parseScope } from '../../core/scope.js';
import { previewTag } from '../../forges/terms.js';
import type { Stage } from '../context.js';
import { awaitingApproval } from './fork-approval.js';
import { stageImage } from './given-image.js';
import { revisionEnv } from './revision-env.js';
import type { ServingTarget } from '../../targets/index.js';

/** Tag of a build's revision: a pull/merge request's preview (docs/architecture.md, the forge's preview tag), or the tag asked for with `slipway deploy --tag`. */
export function revisionTag(build: { prNumber: number | null; forge: string | null; scope: string }): string | undefined {
  // `slipway deploy --tag T` / the action's `tag` input: a tagged revision at 0%, like a preview.
  const scope = parseScope(build.scope);
  if (scope?.kind === 'deploy-tag') return scope.tag;
  if (build.prNumber === null) return undefined;
  return previewTag(build.forge, build.prNumber);
}

/**
 * `promote`: the signed, gate-approved digest becomes an immutable revision on the build's
 * target. Branch builds take the app's traffic; pull/merge request builds get a tagged preview at 0%.
 * Monotonic: a build older than the one serving creates nothing and moves nothing (the target says why),
 * and the build still ends `ready` because what it was asked to make exists and is valid.
 */
export const promoteStage: Stage<'promote'> = {
  name: 'promote',
  running: 'promoting',
  reached: 'ready',
  /** Forks build without secrets and get no preview until a maintainer approves (/ok-to-test). */
  skip: awaitingApproval,
  async run(ctx) {
    const injected = stageImage(ctx, 'inject');
    const target = ctx.targets?.get(ctx.build.target);
    if (!target) {
      throw new SlipwayError(
        'SLW_TARGET_UNKNOWN',
        `target "${ctx.build.target}" is not running in this worker (configured: ${[...(ctx.targets?.keys() ?? [])].join(', ') || 'none'}); check targets in the config`,
      );
    }
    const tag = revisionTag(ctx.build);
    const config = parseScope(ctx.build.scope)?.kind === 'config';
    let createdAt = ctx.build.createdAt;
    if (config) {
      const place = await configChangePlace(target, ctx.app.name, injected.digest);
      if (typeof place !== 'string') {
        await ctx.log(`traffic not moved: ${place.reason}`, 'warn');
        return { revision: undefined, url: place.url, tagUrl: undefined, moved: false, reason: place.reason };
      }
      createdAt = place;
    }
    const { env, secrets } = await revisionEnv(ctx, ctx.build.prNumber !== null);
    await ctx.log(
      `promoting ${injected.image} on ${target.name}${tag ? ` as preview ${tag}` : ''}${config ? ' with the changed configuration' : ''}; environment: ${describeNames(Object.keys(env))}; secrets: ${describeNames(Object.keys(secrets))}`,
    );
    const result = await target.promote(ctx.app.name, {
      image: injected.image,
      commit: ctx.build.commit,
      buildId: ctx.build.id,
      buildCreatedAt: createdAt,
      ...(tag ? { tag } : {}),
      env,
      secrets,
      ...(ctx.app.port !== undefined ? { port: ctx.app.port } : {}),
      resources: {
        ...(ctx.app.resources.cpu !== undefined ? { cpu: ctx.app.resources.cpu } : {}),
        ...(ctx.app.resources.memory !== undefined ? { memory: ctx.app.resources.memory } : {}),
      },
      annotations: { 'dev.slipway.build': ctx.build.id },
    });
    if (result.moved) await ctx.log(`revision ${result.revision} serves ${tag ? (result.tagUrl ?? result.url) : result.url}`);
    else await ctx.log(`traffic not moved: ${result.reason ?? 'nothing to change'}`, 'warn');
    return { revision: result.revision, url: result.url, tagUrl: result.tagUrl, moved: result.moved, reason: result.reason };
  },
};

const describeNames = (names: string[]): string => (names.length ? names.sort().join(', ') : 'none');

/**
 * Where a configuration change's revision stands in promotion order (src/targets/promote.ts): at the
 * place of the revision serving its image now, so it replaces that revision (its build id is newer) but
 * never a build pushed after it, and a push that was building while the configuration changed still
 * takes over when it is done (it reads the new configuration when it is promoted). When the app no
 * longer serves the image, a newer build took over and already runs the configuration of its promotion.
 */
async function configChangePlace(target: ServingTarget, app: string, digest: string): Promise<string | { reason: string; url: string }> {
  const status = await target.status(app);
  const serving = new Set(status.traffic.filter((t) => t.percent > 0 && t.revisionName).map((t) => t.revisionName!));
  const same = status.revisions.filter((r) => serving.has(r.name) && r.digest === digest);
  if (same.length === 0)
    return {
      reason: `app ${app} no longer serves ${digest} on ${target.name}: the revision serving now was promoted with the current configuration`,
      url: status.url,
    };
  const origins = same.flatMap((r) => (r.build ? [r.build.createdAt] : []));
  return origins.sort().reverse()[0] ?? new Date(0).toISOString();
}
