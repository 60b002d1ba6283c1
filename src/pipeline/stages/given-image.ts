import { SlipwayError } from '../../core/errors.js';
import type { Stage, StageContext } from '../context.js';

/**
 * Builds with trigger `image` promote an image that already exists (`slipway deploy <image@digest>`,
 * `POST /api/v1/apps/:app/promotions`): its `cloneUrl` is the image by digest, and its "commit" is that
 * digest. They run the source gate, the image gate, the promote gate (signature by a trusted key, the
 * enforcer's presence: the default policy refuses images that lack either) and the promotion; nothing is
 * fetched, built, injected or signed, so an image Slipway did not protect and a trusted key did not sign
 * is never served this way.
 */

export const promotesGivenImage = (ctx: StageContext): boolean => ctx.build.trigger === 'image';

/** The stage, skipped for builds that promote a given image. */
export function notForGivenImage<N extends string>(stage: Stage<N>, what: string): Stage<N> {
  return {
    ...stage,
    async skip(ctx) {
      if (promotesGivenImage(ctx)) return `the build promotes the existing image ${ctx.build.cloneUrl}: nothing to ${what}`;
      return stage.skip?.(ctx);
    },
  };
}

/**
 * The image a later stage works on: what `from` (the build or inject stage) left, or for a build that
 * promotes a given image, that image.
 */
export function stageImage(ctx: StageContext, from: 'build' | 'inject'): { image: string; digest: string } {
  const left = ctx.outputs[from];
  if (left) return left;
  if (promotesGivenImage(ctx)) {
    const at = ctx.build.cloneUrl.lastIndexOf('@');
    return { image: ctx.build.cloneUrl, digest: ctx.build.cloneUrl.slice(at + 1) };
  }
  throw new SlipwayError('SLW_INTERNAL', `this stage runs after the ${from} stage, which left no image`);
}
