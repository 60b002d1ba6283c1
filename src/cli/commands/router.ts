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
 */
export async function routerCommand(ctx: CliContext, opts: GlobalOptions): Promise<number> {
  const { config, file } = loadCliConfig(ctx, opts);
  const logger = processLogger(ctx, config.log.level);
  logger.info({ file: file ?? '(none: embedded defaults)' }, 'slipway router starting');
  const store = await openStore({ url: config.database, cwd: ctx.cwd });
  // Runtime decisions are stored here; without Redis this process queues no forge feedback for them.
  const recorder = new RuntimeEventRecorder({ store, logger });
  const targets = openTargets(config, store, logger, recorder, openSecretBox(config, ctx.env, ctx.cwd, logger));
  try {
    const handles = await startRouters(targets, logger);
    if (handles.length === 0) {
      ctx.stderr.write('slipway router: no configured target has a router (kind local); nothing to do\n');
      return 1;
    }
    for (const [i, h] of handles.entries())
      ctx.stderr.write(`slipway router: ${[...targets.values()].filter((t) => t.serve)[i]!.name} listening on ${h.address}\n`);
    await stopSignal(logger);
    return 0;
  } finally {
    await closeTargets(targets);
    await recorder.close();
    await store.close();
  }
}
