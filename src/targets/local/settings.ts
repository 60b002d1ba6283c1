import type { LocalTargetConfig } from '../../config/index.js';

/**
 * `targets.<name>` with `kind: local`, as the config schema (src/config/schema.ts) parses it: defaults
 * applied, durations in ms. The schema says what each key means.
 */
export type LocalTargetSettings = LocalTargetConfig;
