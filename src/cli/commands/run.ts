import type { CliContext, GlobalOptions } from '../context.js';
import { loadCliConfig, processLogger } from '../context.js';
import { startRuntime } from '../runtime.js';

export type Role = 'up' | 'server' | 'worker';

/**
 * `slipway up` (server + workers in one process, embedded defaults), `slipway server`, `slipway worker`.
 * Runs until SIGINT/SIGTERM, then drains: the server stops taking requests, workers finish or hand
 * back their jobs.
 */
export async function runProcess(role: Role, ctx: CliContext, opts: GlobalOptions): Promise<number> {
  const loaded = loadCliConfig(ctx, opts);
  const logger = processLogger(ctx, loaded.config.log.level);
  logger.info({ file: loaded.file ?? '(none: embedded defaults)', envOverrides: loaded.envOverrides }, `slipway ${role} starting`);
  const runtime = await startRuntime({
    config: loaded.config,
    logger,
    server: role !== 'worker',
    worker: role !== 'server',
    cwd: ctx.cwd,
    env: ctx.env,
  });
  if (runtime.address) {
    ctx.stderr.write(`slipway ${role}: listening on ${runtime.address} (webhooks at ${loaded.config.server.publicUrl}/webhooks/github and /webhooks/gitlab)\n`);
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await runtime.close();
  return 0;
}
