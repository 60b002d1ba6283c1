import { parseImageRef, RegistryAuth, RegistryClient, type ImageRef } from '../../registry/index.js';
import type { StageContext } from '../context.js';

/** The build's credential resolver: the process's, or one made from the config and environment. */
export function registryAuthOf(ctx: Pick<StageContext, 'registryAuth' | 'config' | 'env'>): RegistryAuth {
  return ctx.registryAuth ?? new RegistryAuth({ registries: ctx.config.registries, env: ctx.env });
}

/** An image's reference and a client for its registry: what the stages that read or write images start from. */
export function registryFor(ctx: StageContext, image: string): { ref: ImageRef; client: RegistryClient } {
  const ref = parseImageRef(image);
  return { ref, client: new RegistryClient({ host: ref.registry, logger: ctx.logger, auth: registryAuthOf(ctx) }) };
}
