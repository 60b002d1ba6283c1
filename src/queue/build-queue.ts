import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { SlipwayError } from '../core/errors.js';
import { BUILDS_QUEUE, channels, DEFAULT_PREFIX } from './names.js';
import type { BuildJob } from './payloads.js';

export interface BuildQueueOptions {
  /** BullMQ key prefix. Default `slipway`. */
  prefix?: string;
  /** Tries per build for retryable failures. Default 3. */
  attempts?: number;
  /** First retry delay in ms, doubling each try. Default 5000. */
  backoffMs?: number;
}

/** Enqueue side of the build queue: used by the server (webhooks, API) and the reconciler. */
export class BuildQueue {
  readonly queue: Queue<BuildJob>;
  readonly prefix: string;
  private readonly attempts: number;
  private readonly backoffMs: number;

  constructor(
    private readonly connection: Redis,
    options: BuildQueueOptions = {},
  ) {
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.attempts = options.attempts ?? 3;
    this.backoffMs = options.backoffMs ?? 5000;
    this.queue = new Queue<BuildJob>(BUILDS_QUEUE, { connection, prefix: this.prefix });
  }

  /**
   * Adds the job for a build. The job id is the build id, so enqueueing twice (a retried webhook, the
   * reconciler) adds one job.
   */
  async enqueue(buildIds: readonly string[]): Promise<void> {
    if (buildIds.length === 0) return;
    try {
      await this.queue.addBulk(
        buildIds.map((buildId) => ({
          name: 'build',
          data: { buildId },
          opts: {
            jobId: buildId,
            attempts: this.attempts,
            backoff: { type: 'exponential', delay: this.backoffMs },
            removeOnComplete: { age: 24 * 3600, count: 1000 },
            removeOnFail: { age: 7 * 24 * 3600 },
          },
        })),
      );
    } catch (err) {
      throw new SlipwayError('SLW_QUEUE', `could not enqueue builds ${buildIds.join(', ')}: ${(err as Error).message}; is Redis running?`, { cause: err });
    }
  }

  /**
   * Cancels builds wherever they are: a queued job is removed, a running one is told over pub/sub
   * (every worker listens and aborts the job if it holds it). The store already says `canceled`, so a
   * worker that misses the message stops at its next stage boundary.
   */
  async cancel(buildIds: readonly string[]): Promise<void> {
    if (buildIds.length === 0) return;
    const channel = channels(this.prefix).cancel;
    // Queue.remove leaves a job that a worker holds (locked) alone: the running one hears the message.
    // One round trip each, in parallel: a push that supersedes another must stay cheap (bench/ingress).
    await Promise.all(buildIds.flatMap((id) => [this.queue.remove(id).catch(() => 0), this.connection.publish(channel, id)]));
  }

  async depth(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized');
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
