import { RegistryAuth } from '../../registry/index.js';
import { openStore } from '../../store/index.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { loadCliConfig, processLogger } from '../context.js';
import { closeTargets, openTargets, startRouters } from '../../app/services/serving.js';
import { RuntimeEventRecorder } from '../../app/services/runtime-events.js';
import { openSecretBox } from '../../app/services/secret-key.js';
import { stopSignal } from '../stop-signal.js';

/**
 * `slipway router`: the serving targets' routers alone (no Redis, no queue: routes come from the store,
 * containers from the Docker Engine). `slipway up` runs the same routers beside server and workers.
 * Targets without a router in Slipway (knative: traffic goes through the cluster's ingress) still have
 * their enforcer decisions collected here, so a router process for knative targets alone has that job.
 */
export async function routerCommand(ctx: CliContext, opts: GlobalOptions): Promise<number> {
  const { config, file } = loadCliConfig(ctx, opts);
  const logger = processLogger(ctx, config.log.level);
  logger.info({ file: file ?? '(none: embedded defaults)' }, 'slipway router starting');
  const store = await openStore({ url: config.database, cwd: ctx.cwd });
  // Runtime decisions are stored here; without Redis this process queues no forge feedback for them.
  const recorder = new RuntimeEventRecorder({ store, logger });
  const registryAuth = new RegistryAuth({ registries: config.registries, env: ctx.env });
  const targets = openTargets(config, store, logger, recorder, registryAuth, openSecretBox(config, ctx.env, ctx.cwd, logger));
  try {
    const routed = [...targets.values()].filter((t) => t.serve);
    const collectors = [...targets.values()].filter((t) => !t.serve && t.collectRuntimeEvents);
    if (routed.length === 0 && collectors.length === 0) {
      ctx.stderr.write(
        `slipway router: nothing to do: ${targets.size === 0 ? 'no target is configured' : 'no configured target has a router or runtime events to collect'}` +
          ` (${file ?? 'embedded defaults'}). Add a target of kind local under \`targets\` (e.g. \`local: { kind: local, listen: 127.0.0.1:8080 }\`) to serve apps from this machine.\n`,
      );
      return 1;
    }
    // Listening for the stop signal before saying "listening": a supervisor (or a test) may stop it at once.
    const stopped = stopSignal(logger);
    const handles = await startRouters(targets, logger);
    for (const [i, h] of handles.entries()) ctx.stderr.write(`slipway router: ${routed[i]!.name} listening on ${h.address}\n`);
    for (const t of collectors)
      ctx.stderr.write(`slipway router: ${t.name} has no router here (its cluster's ingress routes traffic); collecting the enforcer decisions of its pods\n`);
    await stopped;
    return 0;
  } finally {
    await closeTargets(targets);
    await recorder.close();
    await store.close();
  }
}
