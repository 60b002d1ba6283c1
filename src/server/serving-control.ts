import type { ServingTarget } from '../targets/index.js';

/**
 * What the HTTP API calls on a serving target: the targets' own types (src/targets/types.ts), of which the
 * server imports types only; src/app/runtime.ts passes the targets' registry in.
 */
export type ServedTarget = Pick<ServingTarget, 'name' | 'kind' | 'status' | 'setTraffic' | 'removeTag'>;

/** Targets by name. */
export type ServingControl = ReadonlyMap<string, ServedTarget>;
