import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  commandEventSchema,
  isPermanent,
  reportComment,
  reportDeployment,
  reportStatus,
  removePreview,
  retireChangeRequest,
  runCommand,
  type FeedbackDeps,
} from '../src/feedback/index.js';
import { createRedis, type RedisEndpoint, FEEDBACK_QUEUE, feedbackBackoff, feedbackJobId, feedbackJobSchema, type FeedbackJob } from '../src/queue/index.js';

export interface FeedbackWorkerOptions {
  deps: FeedbackDeps;
  /** Redis URL: the worker opens its own blocking connection. */
  /** Redis URL (credentials, db) and TLS CA: every connection of the worker uses it. */
  redis: RedisEndpoint;
  prefix: string;
}

export interface FeedbackWorker {
  worker: Worker<FeedbackJob>;
  close(): Promise<void>;
}

/**
 * Thin wiring of src/feedback to BullMQ. A forge that fails is retried with backoff (the
 * delay the forge asked for, when it did); a request the forge refuses for good (bad credentials, a
 * 422) is not. Nothing here can fail a build: builds run in another queue and only enqueue reports.
 */
export async function startFeedbackWorker(options: FeedbackWorkerOptions): Promise<FeedbackWorker> {
  const { deps } = options;
  const cfg = deps.config.feedback;
  const connection: Redis = createRedis(options.redis, 'feedback-worker');

  const processor = async (job: Job<FeedbackJob>) => {
    const data = feedbackJobSchema.parse(job.data);
    // Cleared before the state is read: news from now on gets this job run again (FeedbackQueue).
    await deps.feedback.claim(feedbackJobId(data));
    try {
      switch (data.kind) {
        case 'status':
          return await reportStatus(deps, data.buildId);
        case 'deployment':
          return await reportDeployment(deps, data.buildId);
        case 'comment':
          return await reportComment(deps, data);
        case 'close':
          return await retireChangeRequest(deps, data);
        case 'unpreview':
          return await removePreview(deps, data);
        case 'command':
          return await runCommand(deps, commandEventSchema.parse(data.event));
      }
    } catch (err) {
      if (isPermanent(err)) throw new UnrecoverableError(err instanceof Error ? err.message : String(err));
      throw err;
    }
  };

  const worker = new Worker<FeedbackJob>(FEEDBACK_QUEUE, processor, {
    connection,
    prefix: options.prefix,
    concurrency: cfg.concurrency,
    settings: { backoffStrategy: feedbackBackoff(cfg.backoff) },
  });
  worker.on('error', (err) => deps.logger.error({ err }, 'feedback worker error'));
  worker.on('failed', (job, err) => {
    if (job === undefined) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1) || err instanceof UnrecoverableError;
    deps.logger[final ? 'error' : 'warn'](
      { err, job: job.id, attempt: job.attemptsMade },
      final ? 'forge feedback dropped' : 'forge feedback failed, will retry',
    );
    if (final) void requeue(job);
  });
  worker.on('completed', (job) => void requeue(job));

  async function requeue(job: Job<FeedbackJob>): Promise<void> {
    try {
      await deps.feedback.requeueIfDirty(job.data);
    } catch (err) {
      deps.logger.warn({ err, job: job.id }, 'could not requeue forge feedback');
    }
  }

  await worker.waitUntilReady();
  deps.logger.info({ concurrency: cfg.concurrency }, 'feedback worker ready');
  return {
    worker,
    async close() {
      await worker.close();
      await connection.quit().catch(() => undefined);
    },
  };
}
