export { injectEnforcer, defaultEnforcerPath } from './inject.js';
export {
  DEFAULT_POLICY,
  type InjectOptions,
  type InjectResult,
  type InjectedImage,
  type InjectProgress,
  type InjectPhase,
  type RuntimePolicy,
} from './types.js';
export { LABELS, HISTORY_COMMENT, wrapEntrypoint, unwrapInjection, rewriteConfig, type ImageConfigJson } from './image-config.js';
export { ENFORCER_PATH, ENFORCER_RELEASE, renderManifest, renderPolicy, buildSlipwayLayer } from './slipway-layer.js';
export { LayeredFilesystem, describeEntry, splitPath, type ExecutableFile, type LayerChange } from './filesystem.js';
export { LayerScanCache, SCAN_CACHE_VERSION, type LayerScanCacheOptions, type LayerScan, type LayerCompression } from './scan-cache.js';
export { readTar, type TarEntry, type TarEntryType } from './tar-reader.js';
export { writeTar, type TarFile } from './tar-writer.js';
export { compressionOf, openLayerTar } from './scan.js';
export {
  parseDecisionLine,
  displaySafe,
  DECISION_PREFIX,
  MAX_DECISION_LINE_BYTES,
  MAX_STORED_PATH,
  type EnforcerDecision,
  type DecisionKind,
} from './decision-line.js';
