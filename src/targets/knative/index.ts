import type { ServingTarget, TargetDeps } from '../types.js';
import type { KnativeTargetSettings } from './settings.js';
import { KnativeTarget } from './target.js';

export { KnativeTarget } from './target.js';
export { knativeService, knativeTraffic, type KnativeService } from './service.js';
export type { KnativeTargetSettings } from './settings.js';

/** The registry's factory for `kind: knative`. */
export function createKnativeTarget(name: string, settings: KnativeTargetSettings, deps: TargetDeps): ServingTarget {
  return new KnativeTarget(name, settings, deps);
}
