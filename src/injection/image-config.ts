import { isDeepStrictEqual } from 'node:util';
import { SlipwayError } from '../core/errors.js';
import { ENFORCER_PATH } from './slipway-layer.js';

/**
 * The image config (OCI image-spec config.md; Docker's image JSON has the same fields) as far as
 * injection touches it. Everything else is kept as parsed, in its original key order, so a config
 * round-trips unchanged apart from what injection writes.
 */
export interface ImageConfigJson {
  created?: string;
  architecture?: string;
  os?: string;
  config?: {
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Labels?: Record<string, string> | null;
    [key: string]: unknown;
  } | null;
  rootfs?: { type?: string; diff_ids?: string[] };
  history?: HistoryEntry[] | null;
  [key: string]: unknown;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
  [key: string]: unknown;
}

/** Config labels injection writes. `layer` is the idempotence marker: the diff_id of Slipway's layer. */
export const LABELS = {
  version: 'dev.slipway.enforcer.version',
  /** The Entrypoint before injection, as JSON (`null` when there was none): what the wrapper runs. */
  entrypoint: 'dev.slipway.enforcer.entrypoint',
  layer: 'dev.slipway.enforcer.layer',
  mode: 'dev.slipway.enforcer.mode',
} as const;

/** `history[].comment` of Slipway's layer, so `docker history` says who added it. */
export const HISTORY_COMMENT = 'dev.slipway.enforcer';
const WRAPPER = [ENFORCER_PATH, '--'];

const diffIds = (c: ImageConfigJson): string[] => {
  const ids = c.rootfs?.diff_ids;
  // An image with no layers at all (`FROM scratch` and nothing else) has `rootfs.type: layers` with
  // diff_ids null or absent: an empty list, not a broken config.
  if ((ids === null || ids === undefined) && c.rootfs?.type === 'layers') return [];
  if (!Array.isArray(ids)) throw new SlipwayError('SLW_INJECT_UNSUPPORTED', 'the image config has no rootfs.diff_ids; it is not a container image config');
  return ids;
};

/** Where the layer list and the history list meet: history entries without `empty_layer` map to layers in order. */
function historyIndexOfLayer(history: HistoryEntry[], layer: number): number {
  let seen = -1;
  for (let i = 0; i < history.length; i++) {
    if (history[i]!.empty_layer) continue;
    if (++seen === layer) return i;
  }
  return -1;
}

export interface Unwrapped {
  config: ImageConfigJson;
  /** Index of Slipway's layer in the source's layers, or -1 when the source was never injected. */
  removedLayer: number;
}

/**
 * Undoes a previous injection, so that injecting an injected image replaces Slipway's layer instead of
 * wrapping twice: drops the layer (found by the `dev.slipway.enforcer.layer` label among diff_ids, not
 * necessarily last: an image may have been built FROM an injected one), its history entry, the
 * wrapper in front of the Entrypoint and Slipway's labels. The input is not modified.
 */
export function unwrapInjection(source: ImageConfigJson): Unwrapped {
  const config = structuredClone(source);
  const labels = config.config?.Labels ?? undefined;
  const marker = labels?.[LABELS.layer];
  const ids = diffIds(config);
  const removedLayer = marker === undefined ? -1 : ids.lastIndexOf(marker);
  if (removedLayer < 0) return { config: source, removedLayer };

  ids.splice(removedLayer, 1);
  if (Array.isArray(config.history)) {
    const at = historyIndexOfLayer(config.history, removedLayer);
    if (at >= 0 && config.history[at]!.comment === HISTORY_COMMENT) config.history.splice(at, 1);
  }
  const c = config.config!;
  const entrypoint = c.Entrypoint ?? [];
  if (isDeepStrictEqual(entrypoint.slice(0, WRAPPER.length), WRAPPER)) {
    // The label restores null-versus-[] exactly when the Entrypoint is still the one we wrapped;
    // an image built FROM an injected one may have changed it, and then only the wrapper goes.
    const original = parseEntrypointLabel(labels![LABELS.entrypoint]);
    c.Entrypoint = original !== undefined && isDeepStrictEqual(wrapEntrypoint(original), entrypoint) ? original : entrypoint.slice(WRAPPER.length);
  }
  for (const name of Object.values(LABELS)) delete labels![name];
  return { config, removedLayer };
}

function parseEntrypointLabel(text: string | undefined): string[] | null | undefined {
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    return v === null || (Array.isArray(v) && v.every((s) => typeof s === 'string')) ? (v as string[] | null) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `["/.slipway/enforcer", "--", …Entrypoint]`. Docker runs Entrypoint followed by Cmd (or by the
 * `docker run` arguments, which replace Cmd), so with Cmd left as it is the enforcer receives exactly
 * the argv the original image would have run: exec-form or shell-form (`["/bin/sh","-c","…"]`) alike,
 * and an image without an Entrypoint gets `enforcer --` followed by its Cmd.
 */
export function wrapEntrypoint(entrypoint: string[] | null | undefined): string[] {
  return [...WRAPPER, ...(entrypoint ?? [])];
}

export interface RewriteInput {
  diffId: string;
  enforcerVersion: string;
  mode: string;
  executables: number;
  labels: Record<string, string>;
}

/**
 * The injected config: Slipway's diff_id appended to `rootfs.diff_ids`, a history entry for it, the
 * wrapped Entrypoint, Cmd untouched, labels. `created` is left alone and the history entry reuses it,
 * so the result depends only on its inputs (same image in, same digest out).
 */
export function rewriteConfig(unwrapped: ImageConfigJson, input: RewriteInput): ImageConfigJson {
  const config = structuredClone(unwrapped);
  diffIds(config).push(input.diffId);
  if (Array.isArray(config.history)) {
    config.history.push({
      ...(config.created ? { created: config.created } : {}),
      created_by: `slipway inject: /.slipway/enforcer ${input.enforcerVersion}, manifest of ${input.executables} executables, policy (${input.mode})`,
      comment: HISTORY_COMMENT,
    });
  }
  const c = (config.config ??= {});
  const original = c.Entrypoint ?? null;
  c.Entrypoint = wrapEntrypoint(original);
  const labels = (c.Labels ??= {});
  Object.assign(labels, input.labels, {
    [LABELS.version]: input.enforcerVersion,
    [LABELS.entrypoint]: JSON.stringify(original),
    [LABELS.layer]: input.diffId,
    [LABELS.mode]: input.mode,
  });
  return config;
}
