import { SlipwayError } from '../core/errors.js';
import { createKnativeTarget, type KnativeTargetSettings } from './knative/index.js';
import { createLocalTarget, type LocalTargetSettings } from './local/index.js';
import type { ServingTarget, TargetDeps, TargetKind } from './types.js';

/**
 * Serving target kinds → factories (the registry maps ids to factories; providers are
 * instances, no module state).
 */

/** `targets.<name>` as the config schema parses it; each kind declares its own settings. */
export type TargetSettings = LocalTargetSettings | KnativeTargetSettings;

type Factory<S> = (name: string, settings: S, deps: TargetDeps) => ServingTarget;

const FACTORIES: { [K in TargetKind]?: Factory<Extract<TargetSettings, { kind: K }>> } = {
  local: createLocalTarget,
  knative: createKnativeTarget,
};

export const targetKinds = (): TargetKind[] => Object.keys(FACTORIES) as TargetKind[];

export function createTarget(name: string, settings: TargetSettings, deps: TargetDeps): ServingTarget {
  const factory = FACTORIES[settings.kind] as Factory<TargetSettings> | undefined;
  if (!factory) {
    throw new SlipwayError(
      'SLW_TARGET_UNKNOWN',
      `target ${name} is of kind ${settings.kind}, which this Slipway cannot serve yet (kinds: ${targetKinds().join(', ')})`,
    );
  }
  return factory(name, settings, deps);
}

/**
 * Every configured target this Slipway can serve, by name. Kinds without a provider yet are left out
 * and logged, so one unavailable target does not stop the others.
 */
export function createTargets(targets: Record<string, TargetSettings>, deps: TargetDeps): Map<string, ServingTarget> {
  const made = new Map<string, ServingTarget>();
  for (const [name, settings] of Object.entries(targets)) {
    if (!FACTORIES[settings.kind]) {
      deps.logger.warn(
        { target: name, kind: settings.kind },
        `target ${name}: kind ${settings.kind} is not available in this Slipway; its apps are not served`,
      );
      continue;
    }
    // Each target binds its own name to the logger (StoredTarget), so it is not bound here as well.
    made.set(name, createTarget(name, settings, deps));
  }
  return made;
}
