import type { ServingTarget, TargetDeps } from '../types.js';
import type { LocalTargetSettings } from './settings.js';
import { LocalTarget } from './target.js';

export { LocalTarget } from './target.js';
export type { LocalTargetSettings } from './settings.js';

/** The registry's factory for `kind: local`. */
export function createLocalTarget(name: string, settings: LocalTargetSettings, deps: TargetDeps): ServingTarget {
  return new LocalTarget(name, settings, deps);
}
