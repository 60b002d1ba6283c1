/**
 * Serving targets: what the pipeline's promote stage, the server and the CLI use.
 *
 *   const targets = createTargets(config.targets, { state, logger });
 *   const result = await targets.get('local')!.promote('hello', { image, commit, buildId, buildCreatedAt });
 *   // → { revision: 'hello-3', url: 'http://hello.localhost', moved: true }
 */
export { createTarget, createTargets, targetKinds, type TargetSettings } from './registry.js';
export { isOlder } from './promote.js';
export { appUrl, tagUrl, imageDigest } from './names.js';
export { latestReady } from './traffic.js';
export { sweepPreviews, type SweptPreview } from './previews.js';
export { LocalTarget, type LocalTargetSettings } from './local/index.js';
export { KnativeTarget, knativeService, type KnativeTargetSettings } from './knative/index.js';
export type * from './types.js';
export { DEFAULT_APP_RUNTIME } from './types.js';
