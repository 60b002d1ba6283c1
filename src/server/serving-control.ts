import type { AppStatus, ServingTarget } from '../targets/index.js';

/**
 * What the HTTP API calls on a serving target: the targets' own types (src/targets/types.ts), of which the
 * server imports types only; src/app/runtime.ts passes the targets' registry in.
 */
export type ServedTarget = Pick<ServingTarget, 'name' | 'kind' | 'status' | 'setTraffic' | 'removeTag'>;

/** A target's view of one app, as the API sends it (after statusView takes the sealed values out). */
export type ServedApp = AppStatus;

/** Targets by name. */
export type ServingControl = ReadonlyMap<string, ServedTarget>;
