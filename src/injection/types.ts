import type { Digest } from '../core/types.js';
import type { RegistryClient } from '../registry/index.js';
import type { LayerScanCache } from './scan-cache.js';

/** What `/.slipway/policy.json` says (enforcer/README.md, "Policy format"). */
export interface RuntimePolicy {
  /** `enforce` refuses a denied exec (EACCES under the Landlock gate, EPERM under the seccomp gate); `audit` lets it run and logs it. Default `enforce`. */
  mode: 'enforce' | 'audit';
  /** Absolute paths executable whatever their content; a trailing `/` allows a whole directory. Default none. */
  allow: string[];
  /** Where the kernel lacks the Landlock gate: `fallback` uses the seccomp gate, `fail` exits 126. Default `fallback`. */
  onUnsupported: 'fallback' | 'fail';
  /**
   * Which denied execs the Landlock gate reports: `no-cost` (the command, fd-based execs and memfd; nothing per
   * exec) or `all` (every denied exec, at a seccomp notification round trip per exec). Default `no-cost`.
   */
  report?: 'no-cost' | 'all';
}

export const DEFAULT_POLICY: RuntimePolicy = { mode: 'enforce', allow: [], onUnsupported: 'fallback', report: 'no-cost' };

export type InjectPhase = 'manifest' | 'layer' | 'upload' | 'push';

export interface InjectProgress {
  phase: InjectPhase;
  /** The platform image being worked on (its manifest digest). */
  image: string;
  /** For `layer`: which layer (1-based) of how many. */
  layer?: number;
  layers?: number;
  /** For `layer`: true when the layer's scan comes from the scan cache (nothing is downloaded). */
  cached?: boolean;
}

export interface InjectOptions {
  /** The static enforcer binary. Default `enforcer/build/enforcer` of this checkout. */
  enforcerPath?: string;
  /** Runtime policy written to `/.slipway/policy.json`; missing keys take DEFAULT_POLICY's values. */
  policy?: Partial<RuntimePolicy>;
  /** Extra config labels: `dev.slipway.build`, `org.opencontainers.image.source`, `…revision`. */
  labels?: Record<string, string>;
  /** Client for the target's registry when it is not the source's. Default: the source client. */
  targetClient?: RegistryClient;
  /**
   * Scans of layers seen before, by blob digest, so a layer shared with an earlier image is neither
   * downloaded nor decompressed again; the manifest is the same as a full scan's. Default: none.
   */
  scanCache?: LayerScanCache;
  signal?: AbortSignal;
  onProgress?: (p: InjectProgress) => void;
}

/** Per platform image. */
export interface InjectedImage {
  /** The source platform image's manifest digest. */
  source: Digest;
  digest: Digest;
  /** Entries in `/.slipway/manifest`. */
  executables: number;
  /** Regular files seen in the final filesystem (all layers, after whiteouts). */
  files: number;
  layers: number;
  /** Source layers whose scan came from `scanCache` (not downloaded). */
  cachedLayers: number;
  /** True when the source already carried Slipway's layer, which was replaced. */
  replaced: boolean;
  /** Paths the manifest format cannot express; the enforcer will refuse to execute them. */
  skipped: string[];
}

export interface InjectResult {
  /** Digest of what was pushed: the new manifest, or the new index for a multi-platform source. */
  digest: Digest;
  mediaType: string;
  /** `registry/repository@digest` of the result. */
  ref: string;
  images: InjectedImage[];
  enforcerVersion: string;
}
