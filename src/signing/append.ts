import { setTimeout as sleep } from 'node:timers/promises';
import { isSlipwayError, SlipwayError } from '../core/errors.js';
import type { Digest } from '../core/types.js';
import { MediaTypes, type Descriptor, type RegistryClient } from '../registry/index.js';
import { layersOf, sameLayer, signatureConfig, signatureManifest, signatureTag } from './signature-manifest.js';

/**
 * Adding a layer to a `.sig` manifest without losing anyone else's. The distribution spec has no
 * compare-and-set on tags (no If-Match on manifest PUT), and SIGNATURE_SPEC says as much ("Support for
 * multiple signatures works but is racy"), so this is read-modify-write made safe by checking:
 *
 * 1. read the tag, merge our layer into what is there, upload the config;
 * 2. HEAD the tag right before the PUT: if it moved since the read, merge again (this shrinks a rival's
 *    window to one HEAD→PUT round trip);
 * 3. after the PUT, read again: our layer must be there, else a rival overwrote it: go to 1;
 * 4. wait a settle time longer than a HEAD→PUT window, and read once more: a rival that read before our
 *    PUT landed would have landed its PUT by now, and if it dropped our layer, go to 1.
 *
 * A rival that merged after our PUT keeps our layer; one that read before it has landed within the
 * settle time and is caught by step 4. A writer stalled longer than the settle time between its HEAD
 * and PUT (or a cosign that does no such check) can still drop a layer after both checks; nothing short
 * of a compare-and-set registry can rule that out.
 */

export interface AppendOptions {
  /** Merges (each a read, a merge and usually a PUT) before giving up with SLW_SIGNING_CONFLICT. Default 10. */
  maxAttempts?: number;
  /** Least settle time before the final check, in ms. Default 25; the actual wait is at least 3× the measured HEAD→PUT window. */
  settleMs?: number;
  signal?: AbortSignal;
}

export interface AppendLayerOptions extends AppendOptions {
  /** The `.sig` set just read by the caller, saving the first read. */
  initial?: SignatureSet;
}

export interface SignatureSet {
  /** Digest of the `.sig` manifest; undefined when the tag does not exist. */
  manifestDigest: Digest | undefined;
  layers: Descriptor[];
}

export interface AppendResult extends SignatureSet {
  manifestDigest: Digest;
  /** PUTs it took (1 without contention). */
  writes: number;
}

/** The `.sig` manifest of `digest` in `repo`; an empty set when there is none. */
export async function readSignatureSet(client: RegistryClient, repo: string, digest: Digest, signal?: AbortSignal): Promise<SignatureSet> {
  try {
    const m = await client.getManifest(repo, signatureTag(digest), {
      accept: [MediaTypes.ociManifest, MediaTypes.dockerManifest],
      ...(signal ? { signal } : {}),
    });
    return { manifestDigest: m.digest, layers: layersOf(m.json) };
  } catch (err) {
    if (isSlipwayError(err, 'SLW_REGISTRY_NOT_FOUND')) return { manifestDigest: undefined, layers: [] };
    throw err;
  }
}

const jitter = (base: number) => base / 2 + Math.random() * base;

/** Adds `layer` (its blob already uploaded to `repo`) to the `.sig` manifest of `digest`, keeping every other layer. */
export async function appendSignatureLayer(
  client: RegistryClient,
  repo: string,
  digest: Digest,
  layer: Descriptor,
  opts: AppendLayerOptions = {},
): Promise<AppendResult> {
  const maxAttempts = opts.maxAttempts ?? 10;
  const tag = signatureTag(digest);
  const signal = opts.signal;
  let writes = 0;
  let attempts = 0;
  let window = 0;
  let current = opts.initial ?? (await readSignatureSet(client, repo, digest, signal));
  for (;;) {
    if (current.layers.some((l) => sameLayer(l, layer))) {
      if (writes === 0) return { ...current, manifestDigest: current.manifestDigest!, writes };
      await sleep(Math.max(opts.settleMs ?? 25, 3 * window), undefined, signal ? { signal } : {});
      const settled = await readSignatureSet(client, repo, digest, signal);
      if (settled.layers.some((l) => sameLayer(l, layer))) return { ...settled, manifestDigest: settled.manifestDigest!, writes };
      current = settled; // a rival that read before our PUT dropped our layer: merge again
      continue;
    }
    if (attempts >= maxAttempts) {
      throw new SlipwayError(
        'SLW_SIGNING_CONFLICT',
        `gave up adding a signature to ${repo}:${tag} after ${attempts} tries: other signers kept replacing it; retry the signing`,
      );
    }
    attempts++;
    const layers = [...current.layers, layer];
    const config = signatureConfig(layers, new Date());
    await client.uploadBlob(repo, config, signal ? { signal } : {});
    const manifest = signatureManifest(config, layers);
    const started = Date.now();
    const head = await client.headManifest(repo, tag, signal ? { signal } : {});
    if (head?.digest !== current.manifestDigest) {
      await sleep(jitter(10 * attempts), undefined, signal ? { signal } : {});
      current = await readSignatureSet(client, repo, digest, signal);
      continue;
    }
    await client.putManifest(repo, tag, manifest, MediaTypes.ociManifest, signal ? { signal } : {});
    window = Math.max(window, Date.now() - started);
    writes++;
    current = await readSignatureSet(client, repo, digest, signal);
  }
}
