import { z } from 'zod';

/**
 * Feedback jobs carry what to report on, never what to report: the job reads the build from the store
 * when it runs, so whichever try runs last reports the newest state ("newest state wins").
 */

/** Forge ids are checked where a job is used (src/forges/terms.ts): the queue carries them as given. */
const changeRequest = { forge: z.string().min(1), repo: z.string().min(1), number: z.number().int().positive() };

export const feedbackJobSchema = z.discriminatedUnion('kind', [
  /** The build's check run / commit status. */
  z.strictObject({ kind: z.literal('status'), buildId: z.string().min(1) }),
  /** The build's deployment, once it promotes. */
  z.strictObject({ kind: z.literal('deployment'), buildId: z.string().min(1) }),
  /** The pull request's one comment: its newest builds. */
  z.strictObject({ kind: z.literal('comment'), ...changeRequest }),
  /** The pull request closed: its preview environment is retired. */
  z.strictObject({ kind: z.literal('close'), ...changeRequest }),
  /**
   * A closed pull/merge request's preview comes off its serving target: a worker's job, so a webhook
   * only stores and enqueues. `forge` and `number` name the preview tag.
   */
  z.strictObject({
    kind: z.literal('unpreview'),
    app: z.string().min(1),
    target: z.string().min(1),
    forge: z.string().min(1),
    number: z.number().int().positive(),
  }),
  /** A comment command or label from a webhook: checked against the forge's permissions, then run. */
  z.strictObject({ kind: z.literal('command'), deliveryId: z.string().min(1), event: z.record(z.string(), z.unknown()) }),
]);
export type FeedbackJob = z.infer<typeof feedbackJobSchema>;

/**
 * One job id per (subject, kind), so reports on the same thing coalesce while one waits. BullMQ job
 * ids may not contain `:`; `~` separates the parts.
 */
export function feedbackJobId(job: FeedbackJob): string {
  switch (job.kind) {
    case 'status':
    case 'deployment':
      return `${job.kind}~${job.buildId}`;
    case 'comment':
    case 'close':
      return `${job.kind}~${job.forge}~${job.repo.toLowerCase()}~${job.number}`.replaceAll(':', '~');
    case 'unpreview':
      return `unpreview~${job.app}~${job.target}~${job.forge}~${job.number}`.replaceAll(':', '~');
    case 'command':
      return `command~${String(job.event['forge'])}~${job.deliveryId}`.replaceAll(':', '~');
  }
}

/** What a build needs reported: its status, its deployment, and its pull request's comment. */
export function buildFeedbackJobs(build: { id: string; forge: string | null; repo: string | null; prNumber: number | null }): FeedbackJob[] {
  // Only builds from a forge; which forges report at all is FeedbackQueue.reportsTo's call.
  if (build.forge === null || build.repo === null) return [];
  const jobs: FeedbackJob[] = [
    { kind: 'status', buildId: build.id },
    { kind: 'deployment', buildId: build.id },
  ];
  if (build.prNumber !== null) jobs.push({ kind: 'comment', forge: build.forge, repo: build.repo, number: build.prNumber });
  return jobs;
}
