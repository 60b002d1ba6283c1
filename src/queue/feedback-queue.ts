import { Queue, type BackoffStrategy } from 'bullmq';
import type { Redis } from 'ioredis';
import { SlipwayError } from '../core/errors.js';
import { DEFAULT_PREFIX, FEEDBACK_QUEUE, feedbackDirtyKey } from './names.js';
import { buildFeedbackJobs, feedbackJobId, type FeedbackJob } from './feedback-payloads.js';

export interface FeedbackQueueOptions {
  /** BullMQ key prefix. Default `slipway`. */
  prefix?: string;
  /** Tries per job; forge outages are retried this often before the report is dropped. Default 8. */
  attempts?: number;
  /** First retry delay in ms, doubling each try, unless the forge said when (Retry-After). Default 2000. */
  backoffMs?: number;
  /** Forges with API credentials; builds from others get no jobs. Default: none. */
  forges?: ReadonlySet<string>;
}

/** Custom backoff type name (BullMQ "Custom backoff strategy"): the worker's `settings.backoffStrategy`. */
export const FEEDBACK_BACKOFF = 'forge';

/** How long a dirty mark outlives a job that never ran (Redis lost the job): a day. */
const DIRTY_TTL_SECONDS = 24 * 3600;

/**
 * The feedback queue. Forge calls run here, never in a build: a forge that is down delays
 * the report, never the build.
 *
 * Coalescing: a job's id is its subject and kind, so while one waits (or waits out a retry delay),
 * more news adds nothing — the job reads the current state when it runs. A job already running may
 * have read the state before the news; the "dirty" mark closes that gap: `add()` sets it before
 * adding, the processor clears it (`claim`) before reading, and the worker adds the job again when
 * it finishes with the mark set (`requeueIfDirty`).
 */
export class FeedbackQueue {
  readonly queue: Queue<FeedbackJob>;
  readonly prefix: string;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly forges: ReadonlySet<string>;

  constructor(
    private readonly connection: Redis,
    options: FeedbackQueueOptions = {},
  ) {
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.attempts = options.attempts ?? 8;
    this.backoffMs = options.backoffMs ?? 2000;
    this.forges = options.forges ?? new Set();
    this.queue = new Queue<FeedbackJob>(FEEDBACK_QUEUE, { connection, prefix: this.prefix });
  }

  async add(all: readonly FeedbackJob[]): Promise<void> {
    const jobs = [...new Map(all.map((job) => [feedbackJobId(job), job])).values()];
    if (jobs.length === 0) return;
    try {
      const multi = this.connection.multi();
      for (const job of jobs) multi.set(feedbackDirtyKey(this.prefix, feedbackJobId(job)), '1', 'EX', DIRTY_TTL_SECONDS);
      await multi.exec();
      await this.queue.addBulk(jobs.map((job) => ({ name: job.kind, data: job, opts: this.jobOptions(job) })));
    } catch (err) {
      throw new SlipwayError('SLW_QUEUE', `could not enqueue forge feedback: ${(err as Error).message}; is Redis running?`, { cause: err });
    }
  }

  /** Whether reports for `forge` go anywhere (its API credentials are configured). */
  reportsTo(forge: string | null): boolean {
    return forge !== null && this.forges.has(forge);
  }

  /** Status, deployment and pull request comment jobs for builds whose forge is configured. */
  async addForBuilds(builds: readonly { id: string; forge: string | null; repo: string | null; prNumber: number | null }[]): Promise<void> {
    await this.add(builds.filter((b) => this.reportsTo(b.forge)).flatMap(buildFeedbackJobs));
  }

  /** Called by the processor before it reads the state it reports. */
  async claim(jobId: string): Promise<void> {
    await this.connection.del(feedbackDirtyKey(this.prefix, jobId));
  }

  /** Called when a job finished: news that arrived while it ran gets a job of its own. */
  async requeueIfDirty(job: FeedbackJob): Promise<boolean> {
    const dirty = await this.connection.exists(feedbackDirtyKey(this.prefix, feedbackJobId(job)));
    if (dirty === 0) return false;
    await this.queue.add(job.kind, job, this.jobOptions(job));
    return true;
  }

  async depth(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
  }

  async close(): Promise<void> {
    await this.queue.close();
  }

  private jobOptions(job: FeedbackJob) {
    return {
      jobId: feedbackJobId(job),
      attempts: this.attempts,
      backoff: { type: FEEDBACK_BACKOFF, delay: this.backoffMs },
      // Finished jobs leave at once so the same id can be added again for the next state.
      removeOnComplete: true,
      removeOnFail: true,
    };
  }
}

/**
 * The delay before a retry: what the forge asked for (`details.retryAfterMs` of the SlipwayError:
 * Retry-After, GitHub's rate-limit reset), else `baseMs` doubling per try, capped at ten minutes.
 */
export function feedbackBackoff(baseMs: number): BackoffStrategy {
  return (attemptsMade, _type, err) => {
    const asked = err instanceof SlipwayError ? err.details?.['retryAfterMs'] : undefined;
    if (typeof asked === 'number' && Number.isFinite(asked)) return Math.max(asked, 0);
    return Math.min(baseMs * 2 ** Math.max(attemptsMade - 1, 0), 10 * 60 * 1000);
  };
}
