import { resolve } from 'node:path';
import { injectEnforcer, LayerScanCache } from '../../injection/index.js';
import { registryFor } from './registry-for.js';
import { updateBuild } from '../../store/index.js';
import type { Stage } from '../context.js';

/**
 * `inject`: the micro-enforcer goes into every image at the registry level, without a
 * rebuild. The result replaces the build's tag and becomes the build's digest: what is signed and
 * promoted from here on is the protected image.
 */
export const injectStage: Stage<'inject'> = {
  name: 'inject',
  running: 'injecting',
  async run(ctx) {
    const built = ctx.outputs.build;
    if (!built) throw new Error('the inject stage runs after the build stage, which left no image');
    const { ref: source, client } = registryFor(ctx, built.image);
    const target = { ...source, digest: undefined, tag: built.tag };
    const { enforcer } = ctx.config;
    await ctx.log(`injecting the micro-enforcer (${enforcer.mode}) into ${built.image}`);
    // Layer scans kept under dataDir: an app image rebuilt on the same base downloads only the
    // layers that changed. On disk, so it outlives the worker and is shared by workers sharing dataDir.
    const scanCache = new LayerScanCache({
      dir: resolve(ctx.cwd ?? process.cwd(), ctx.config.dataDir, 'cache', 'enforcer'),
      onIgnored: (digest, reason) => ctx.logger.warn({ layer: digest, reason }, 'enforcer layer scan cache entry ignored'),
    });
    const result = await injectEnforcer(client, source, target, {
      scanCache,
      ...(enforcer.binary ? { enforcerPath: enforcer.binary } : {}),
      policy: { mode: enforcer.mode, allow: enforcer.allow, onUnsupported: enforcer.onUnsupported, report: enforcer.report },
      labels: { 'dev.slipway.build': ctx.build.id },
      signal: ctx.signal,
    });
    const executables = result.images.reduce((n, i) => n + i.executables, 0);
    const skipped = result.images.flatMap((i) => i.skipped);
    if (skipped.length)
      await ctx.log(`${skipped.length} path(s) the manifest cannot express will be refused at run time: ${skipped.slice(0, 5).join(', ')}`, 'warn');
    await updateBuild(ctx.store.db, ctx.build.id, { digest: result.digest });
    const layers = result.images.reduce((n, i) => n + i.layers - 1, 0);
    const cached = result.images.reduce((n, i) => n + i.cachedLayers, 0);
    await ctx.log(
      `injected enforcer ${result.enforcerVersion}: ${executables} executables in the manifest (${cached} of ${layers} layers from the scan cache) → ${result.ref}`,
    );
    return { image: result.ref, digest: result.digest, source: built.image, executables, enforcerVersion: result.enforcerVersion };
  },
};
