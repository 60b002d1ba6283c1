import type { KnativeTargetConfig } from '../../config/index.js';

/**
 * `targets.<name>` with `kind: knative`, as the config schema (src/config/schema.ts) parses it: defaults
 * applied, durations in ms. The schema says what each key means.
 */
export type KnativeTargetSettings = KnativeTargetConfig;
