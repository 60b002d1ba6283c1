import type { SlipwayConfig } from '../../config/index.js';
import type { Logger } from '../../log/index.js';
import type { RegistryAuth } from '../../registry/index.js';
import type { Store } from '../../store/index.js';
import { createTargets, type RuntimeEventSink, type SecretOpener, type ServingHandle, type ServingTarget } from '../../targets/index.js';
import { servingState } from './serving-state.js';

/**
 * Serving targets of a Slipway process: made from the config over the store. Containers carry
 * the installation's `redisPrefix` as a label, so two installations sharing one Docker Engine never
 * adopt each other's containers.
 */
export function openTargets(
  config: SlipwayConfig,
  store: Store,
  logger: Logger,
  events?: RuntimeEventSink,
  registryAuth?: RegistryAuth,
  secrets?: SecretOpener,
): Map<string, ServingTarget> {
  const apps = Object.fromEntries(
    config.apps.map((a) => [a.name, { network: a.network, capabilities: a.capabilities, readOnlyRootFilesystem: a.readOnlyRootFilesystem }]),
  );
  return createTargets(config.targets, {
    state: servingState(store.db),
    logger,
    labels: { 'dev.slipway.installation': config.redisPrefix },
    apps,
    dataDir: config.dataDir,
    ...(events ? { events } : {}),
    ...(registryAuth ? { registryCredentials: (host: string) => registryAuth.credentialsFor(host) } : {}),
    ...(secrets ? { secrets } : {}),
  });
}

/** Starts the data plane (the local router) of every target that has one in this process, and the runtime event collection of those without one. */
export async function startRouters(targets: ReadonlyMap<string, ServingTarget>, logger: Logger): Promise<ServingHandle[]> {
  const handles: ServingHandle[] = [];
  try {
    for (const target of targets.values()) {
      target.collectRuntimeEvents?.();
      if (!target.serve) continue;
      const handle = await target.serve();
      logger.info({ target: target.name, address: handle.address }, 'router listening');
      handles.push(handle);
    }
  } catch (err) {
    for (const h of handles) await h.close();
    throw err;
  }
  return handles;
}

export async function closeTargets(targets: ReadonlyMap<string, ServingTarget>): Promise<void> {
  for (const target of targets.values()) await target.close();
}
