import type { Stage } from '../context.js';
import { buildStage } from './build.js';
import { fetchStage } from './fetch.js';
import { notForGivenImage } from './given-image.js';
import { buildGateStage, imageGateStage, promoteGateStage, sourceGateStage } from './gates.js';
import { injectStage } from './inject.js';
import { promoteStage } from './promote.js';
import { signStage } from './sign.js';

/**
 * The stages every build runs, in order (docs/architecture.md "From a trigger to a served revision"): the source gate before anything is
 * fetched, the build gate on the Dockerfile, the image gate on what was pushed, the micro-enforcer
 * injected, the result signed, the promote gate on the signed digest, and the promotion to a revision
 * on the build's target. A build ends in the `reached` state of the last stage that reaches one
 * (`ready`), so nothing pretends to have run a stage that does not exist. Builds that promote an
 * existing image (trigger `image`) skip the stages that would make one (given-image.ts).
 */
export const DEFAULT_STAGES: readonly Stage[] = [
  sourceGateStage,
  notForGivenImage(fetchStage, 'fetch'),
  notForGivenImage(buildGateStage, 'read a Dockerfile of'),
  notForGivenImage(buildStage, 'build'),
  imageGateStage,
  notForGivenImage(injectStage, 'inject: the promote gate requires the enforcer to be there already'),
  notForGivenImage(signStage, 'sign: the promote gate requires a trusted signature already'),
  promoteGateStage,
  promoteStage,
];
