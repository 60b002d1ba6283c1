import { parseImageRef, RegistryClient, type ImageRef } from '../../registry/index.js';
import type { StageContext } from '../context.js';

/** An image's reference and a client for its registry: what the stages that read or write images start from. */
export function registryFor(ctx: StageContext, image: string): { ref: ImageRef; client: RegistryClient } {
  const ref = parseImageRef(image);
  return { ref, client: new RegistryClient({ host: ref.registry, logger: ctx.logger }) };
}
