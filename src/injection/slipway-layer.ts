import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { SlipwayError } from '../core/errors.js';
import { sha256Digest } from '../registry/index.js';
import type { Digest } from '../core/types.js';
import type { ExecutableFile } from './filesystem.js';
import { writeTar } from './tar-writer.js';
import type { RuntimePolicy } from './types.js';

/** On-image paths (docs/architecture.md); the enforcer reads the other two at these defaults. */
export const ENFORCER_PATH = '/.slipway/enforcer';
export const SLIPWAY_DIR = '/.slipway';

/** Release of the enforcer's on-image contract (manifest v1, policy keys); the binary's hash is appended. */
export const ENFORCER_RELEASE = '0.1.0';

/** Limits of the enforcer's manifest reader (enforcer/README.md, "Manifest format"). */
const MAX_PATH_BYTES = 4095;

export interface RenderedManifest {
  bytes: Buffer;
  listed: number;
  /** Paths the manifest format cannot express (newline in the name, too long): never executable. */
  skipped: string[];
}

/**
 * `/.slipway/manifest`: `<sha256> <size> <mode> <path>\n` per executable, sorted by path (the enforcer
 * sorts anyway; sorting here keeps the layer byte-identical from run to run). `/.slipway/*` itself is
 * never listed: the README warns that listing the enforcer would let the workload start a second one.
 */
export function renderManifest(files: readonly ExecutableFile[]): RenderedManifest {
  const lines = ['# slipway manifest v1\n'];
  const skipped: string[] = [];
  let listed = 0;
  for (const f of files) {
    if (f.path === SLIPWAY_DIR || f.path.startsWith(`${SLIPWAY_DIR}/`)) continue;
    if (f.path.includes('\n') || f.path.includes('\0') || f.path.length > MAX_PATH_BYTES) {
      skipped.push(f.path);
      continue;
    }
    lines.push(`${f.sha256} ${f.size} ${(f.mode & 0o7777).toString(8).padStart(4, '0')} ${f.path}\n`);
    listed++;
  }
  // Paths are latin1 strings holding the file names' raw bytes: written back byte for byte.
  return { bytes: Buffer.from(lines.join(''), 'latin1'), listed, skipped };
}

/** `/.slipway/policy.json`, keys in a fixed order (the enforcer's reader is strict RFC 8259 JSON). */
export function renderPolicy(policy: RuntimePolicy): Buffer {
  for (const path of policy.allow) {
    if (!path.startsWith('/') || path.includes('\0') || path.includes('\n')) {
      throw new SlipwayError(
        'SLW_INJECT_POLICY',
        `allow entry "${path}" is not an absolute path; write it like /opt/plugins/ (a trailing / allows everything below)`,
      );
    }
  }
  return Buffer.from(
    `${JSON.stringify({ mode: policy.mode, allow: policy.allow, onUnsupported: policy.onUnsupported, report: policy.report ?? 'no-cost' })}\n`,
  );
}

export const enforcerVersion = (binary: Buffer): string => `${ENFORCER_RELEASE}+${createHash('sha256').update(binary).digest('hex').slice(0, 12)}`;

export interface SlipwayLayer {
  /** The gzip blob as uploaded. */
  blob: Buffer;
  digest: Digest;
  /** sha256 of the uncompressed tar: the layer's entry in `rootfs.diff_ids`. */
  diffId: Digest;
}

/**
 * The one layer injection appends: `/.slipway/` with the enforcer (0755: it runs as whatever USER the
 * image has), the manifest and the policy (0644). Deterministic: fixed tar metadata, and gzip without
 * a name or mtime in its header (RFC 1952 MTIME = 0), so equal inputs give an equal digest.
 */
export function buildSlipwayLayer(enforcer: Buffer, manifest: Buffer, policy: Buffer): SlipwayLayer {
  const tar = writeTar([
    { name: '.slipway/', type: 'directory', mode: 0o755 },
    { name: '.slipway/enforcer', type: 'file', mode: 0o755, data: enforcer },
    { name: '.slipway/manifest', type: 'file', mode: 0o644, data: manifest },
    { name: '.slipway/policy.json', type: 'file', mode: 0o644, data: policy },
  ]);
  const blob = gzipSync(tar, { level: 9 });
  return { blob, digest: sha256Digest(blob), diffId: sha256Digest(tar) };
}
