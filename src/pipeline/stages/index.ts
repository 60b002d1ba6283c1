import type { Stage } from '../context.js';
import { fetchStage } from './fetch.js';

/**
 * The stages every build runs, in order. Later issues append build, policy gates, inject, sign and
 * promote; the state a build ends in is the `reached` state of the last stage here, so nothing
 * pretends to have run a stage that does not exist yet.
 */
export const DEFAULT_STAGES: readonly Stage[] = [fetchStage as Stage];
