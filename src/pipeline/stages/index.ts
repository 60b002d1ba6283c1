import type { Stage } from '../context.js';
import { buildStage } from './build.js';
import { fetchStage } from './fetch.js';
import { buildGateStage, imageGateStage, promoteGateStage, sourceGateStage } from './gates.js';
import { injectStage } from './inject.js';
import { promoteStage } from './promote.js';
import { signStage } from './sign.js';

/**
 * The stages every build runs, in order (DESIGN.md "The flow"): the source gate before anything is
 * fetched, the build gate on the Dockerfile, the image gate on what was pushed, the micro-enforcer
 * injected, the result signed, the promote gate on the signed digest, and the promotion to a revision
 * on the build's target. A build ends in the `reached` state of the last stage that reaches one
 * (`ready`), so nothing pretends to have run a stage that does not exist.
 */
export const DEFAULT_STAGES: readonly Stage[] = [
  sourceGateStage as Stage,
  fetchStage as Stage,
  buildGateStage as Stage,
  buildStage as Stage,
  imageGateStage as Stage,
  injectStage as Stage,
  signStage as Stage,
  promoteGateStage as Stage,
  promoteStage as Stage,
];
