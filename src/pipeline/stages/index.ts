import type { Stage } from '../context.js';
import { buildStage } from './build.js';
import { fetchStage } from './fetch.js';
import { buildGateStage, imageGateStage, sourceGateStage } from './gates.js';

/**
 * The stages every build runs, in order (DESIGN.md "The flow"): the source gate before anything is
 * fetched, the build gate on the Dockerfile, the image gate on what was pushed. Inject, sign, the
 * promote gate and promote come with later issues. A build ends in the `reached` state of the last
 * stage that reaches one (`built` today), so nothing pretends to have run a stage that does not exist.
 */
export const DEFAULT_STAGES: readonly Stage[] = [
  sourceGateStage as Stage,
  fetchStage as Stage,
  buildGateStage as Stage,
  buildStage as Stage,
  imageGateStage as Stage,
];
