import { registryFor } from './registry-for.js';
import { signImage } from '../../signing/index.js';
import type { Stage } from '../context.js';
import { awaitingApproval } from './fork-approval.js';

/**
 * `sign`: a cosign-compatible signature of the protected image's digest, stored as
 * `sha256-<hex>.sig` beside it. By digest only; the signature is what the promote gate verifies. A
 * fork's pull request is not signed until a maintainer approves it (fork-approval.ts): a trusted
 * signature on what a stranger's code built would make it promotable.
 */
export const signStage: Stage<'sign'> = {
  name: 'sign',
  running: 'signing',
  reached: 'signed',
  skip: awaitingApproval,
  async run(ctx) {
    const injected = ctx.outputs.inject;
    if (!injected) throw new Error('the sign stage runs after inject, which left no image');
    if (!ctx.signing) throw new Error('no signing key is loaded (the worker loads signing.key at start)');
    const { ref, client } = registryFor(ctx, injected.image);
    const result = await signImage(client, ref, ctx.signing.key, { signal: ctx.signal });
    await ctx.log(
      `${result.added ? 'signed' : 'already signed'} ${result.digest} with key ${result.keyFingerprint.slice(0, 19)}… → ${ref.registry}/${result.signatureRepository}:${result.signatureTag} (${result.signatures} signature${result.signatures === 1 ? '' : 's'})`,
    );
    return { image: injected.image, signatureTag: result.signatureTag, keyFingerprint: result.keyFingerprint };
  },
};
