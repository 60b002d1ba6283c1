import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { resolve } from 'node:path';
import type { Redis } from 'ioredis';
import { removeStaleWorkspaces, runBuild, type PipelineDeps } from '../src/pipeline/index.js';
import { BUILDS_QUEUE, buildJobSchema, channels, connectRedis, createRedis, type RedisEndpoint, type BuildJob, type BuildQueue } from '../src/queue/index.js';
import { listQueuedBuildIds } from '../src/store/index.js';

export interface BuildWorkerOptions {
  deps: PipelineDeps;
  /** Used to re-enqueue builds a crash left without a job. */
  queue: BuildQueue;
  /** Redis URL: the worker opens its own blocking and pub/sub connections. */
  /** Redis URL (credentials, db) and TLS CA: every connection of the worker uses it. */
  redis: RedisEndpoint;
  prefix: string;
}

export interface BuildWorker {
  worker: Worker<BuildJob>;
  close(): Promise<void>;
}

/**
 * Thin wiring of the pipeline to BullMQ (DESIGN.md: workers/ hold no logic). A job that a dead
 * worker held is taken over once its lock expires (`lockDuration`) and the next stalled check runs;
 * the pipeline's checkpoints make the takeover resume rather than redo.
 */
export async function startBuildWorker(options: BuildWorkerOptions): Promise<BuildWorker> {
  const { deps } = options;
  const cfg = deps.config.builds;
  const connection: Redis = createRedis(options.redis, 'worker');
  // Connected (ready) before it subscribes: a SUBSCRIBE sent while ioredis still runs its ready check makes that
  // check's INFO fail with "Connection in subscriber mode" as an unhandled error event.
  const subscriber: Redis = await connectRedis(options.redis, 'worker-cancel');
  subscriber.on('error', (err) => deps.logger.warn({ err }, 'build cancel subscriber: Redis connection error; ioredis reconnects'));

  const processor = async (job: Job<BuildJob>, token?: string, signal?: AbortSignal) => {
    const { buildId } = buildJobSchema.parse(job.data);
    // BullMQ renews locks from a timer of its own; renewing here too, more often, keeps a build that runs
    // for an hour (a long unpack, a slow solve) from being taken for a dead worker's after one late renewal.
    const renew = token
      ? setInterval(
          () => {
            job.extendLock(token, cfg.lockDuration).catch((err: unknown) => deps.logger.warn({ err, build: buildId }, 'could not extend the build job lock'));
          },
          Math.max(100, Math.floor(cfg.lockDuration / 3)),
        )
      : undefined;
    let result;
    try {
      result = await runBuild(buildId, deps, {
        signal: signal ?? new AbortController().signal,
        attempt: job.attemptsMade + 1,
        maxAttempts: job.opts.attempts ?? 1,
      });
    } finally {
      clearInterval(renew);
    }
    if (result.outcome === 'retry') throw result.error;
    // The build row holds the failure; tell BullMQ not to retry it.
    if (result.outcome === 'failed') throw new UnrecoverableError(`${result.error.code}: ${result.error.message}`);
    return { state: result.state };
  };

  // Before taking jobs: a worker killed mid-build left its checkout behind, and nothing else removes it.
  await removeStaleWorkspaces({
    dir: resolve(deps.cwd ?? process.cwd(), cfg.workspace),
    store: deps.store,
    redis: connection,
    prefix: options.prefix,
    lockDuration: cfg.lockDuration,
    logger: deps.logger,
  }).catch((err: unknown) => deps.logger.warn({ err }, 'could not remove stale workspaces; the next worker start tries again'));

  const worker = new Worker<BuildJob>(BUILDS_QUEUE, processor, {
    connection,
    prefix: options.prefix,
    concurrency: cfg.concurrency,
    lockDuration: cfg.lockDuration,
    stalledInterval: cfg.stalledInterval,
    // A job whose worker died is taken over; twice is a crash loop worth failing for.
    maxStalledCount: 2,
  });
  worker.on('error', (err) => deps.logger.error({ err }, 'worker error'));

  const cancelChannel = channels(options.prefix).cancel;
  subscriber.on('message', (channel: string, buildId: string) => {
    if (channel === cancelChannel && worker.cancelJob(buildId, 'superseded or canceled')) {
      deps.logger.info({ build: buildId }, 'aborting canceled build');
    }
  });
  await subscriber.subscribe(cancelChannel);

  // A crash between the webhook's commit and its enqueue would leave a queued build with no job;
  // job ids are build ids, so re-adding every queued build is harmless and loses none.
  await options.queue.enqueue(await listQueuedBuildIds(deps.store.db));
  await worker.waitUntilReady();
  deps.logger.info({ concurrency: cfg.concurrency }, 'build worker ready');

  return {
    worker,
    async close() {
      await worker.close();
      await subscriber.quit().catch(() => undefined);
      await connection.quit().catch(() => undefined);
    },
  };
}
