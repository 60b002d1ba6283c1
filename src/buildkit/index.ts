/**
 * Slipway's BuildKit client: transports (Docker Engine h2c upgrade, unix, tcp with mTLS),
 * Control (ListWorkers, Solve, Status, DiskUsage, Prune), the session services (FileSync, secrets,
 * registry auth, health) and progress. Imports only core and log (docs/architecture.md "Modules").
 */
export { parseBuildkitAddress, describeAddress, type BuildkitAddress } from './address.js';
export { BuildkitClient } from './client.js';
export { buildImage, type BuildImageOptions, type BuildImageResult } from './build.js';
export { pruneToBudget, type CachePruneResult } from './cache.js';
export { sharedKeyFor } from './shared-key.js';
export { resolvedImage } from './resolutions.js';
export { PathMatcher } from './context/patterns.js';
export { walkContext } from './context/walk.js';
export type { BuildStep, ProgressLevel, ProgressLine } from './progress.js';
export type { TransferStats } from './session/filesync.js';
export type { RegistryCredentials, SessionCredentials } from './session/services.js';
