import type { CliContext, GlobalOptions } from '../context.js';
import { loadCliConfig, processLogger } from '../context.js';
import { startRuntime } from '../../app/runtime.js';
import { forgeIds } from '../../forges/registry.js';
import { stopSignal } from '../stop-signal.js';
import { deployExample, prepareExample } from './example.js';

export type Role = 'up' | 'server' | 'worker';

/**
 * `slipway up` (server + workers in one process, embedded defaults), `slipway server`, `slipway worker`.
 * Runs until SIGINT/SIGTERM, then drains: the server stops taking requests, workers finish or hand
 * back their jobs.
 */
export async function runProcess(role: Role, ctx: CliContext, opts: GlobalOptions, options: { example?: boolean } = {}): Promise<number> {
  const loaded = loadCliConfig(ctx, opts);
  // `slipway up` with no app configured deploys examples/hello through the whole pipeline.
  const example = role === 'up' && options.example !== false && loaded.config.apps.length === 0 ? prepareExample(loaded.config, ctx.cwd) : undefined;
  if (example) loaded.config = example.config;
  const logger = processLogger(ctx, loaded.config.log.level);
  logger.info({ file: loaded.file ?? '(none: embedded defaults)', envOverrides: loaded.envOverrides }, `slipway ${role} starting`);
  const runtime = await startRuntime({
    config: loaded.config,
    logger,
    server: role !== 'worker',
    worker: role !== 'server',
    router: role === 'up',
    cwd: ctx.cwd,
    env: ctx.env,
  });
  if (runtime.address) {
    ctx.stderr.write(
      `slipway ${role}: listening on ${runtime.address} (webhooks at ${forgeIds()
        .map((id, i) => `${i === 0 ? loaded.config.server.publicUrl : ''}/webhooks/${id}`)
        .join(' and ')})\n`,
    );
  }
  if (example)
    void deployExample(runtime, example, ctx.stderr).catch((err: unknown) =>
      ctx.stderr.write(`slipway up: could not deploy the example: ${(err as Error).message}\n`),
    );
  await stopSignal(logger);
  await runtime.close();
  return 0;
}
