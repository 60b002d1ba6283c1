import { SlipwayError } from '../../core/errors.js';
import { parseScope } from '../../core/scope.js';
import { previewTag } from '../../forges/terms.js';
import type { Stage } from '../context.js';
import { awaitingApproval } from './fork-approval.js';
import { stageImage } from './given-image.js';

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
    await ctx.log(`promoting ${injected.image} on ${target.name}${tag ? ` as preview ${tag}` : ''}`);
    const result = await target.promote(ctx.app.name, {
      image: injected.image,
      commit: ctx.build.commit,
      buildId: ctx.build.id,
      buildCreatedAt: ctx.build.createdAt,
      ...(tag ? { tag } : {}),
      annotations: { 'dev.slipway.build': ctx.build.id },
    });
    if (result.moved) await ctx.log(`revision ${result.revision} serves ${tag ? (result.tagUrl ?? result.url) : result.url}`);
    else await ctx.log(`traffic not moved: ${result.reason ?? 'nothing to change'}`, 'warn');
    return { revision: result.revision, url: result.url, tagUrl: result.tagUrl, moved: result.moved, reason: result.reason };
  },
};
