import { isForgeId, previewTag } from '../forges/terms.js';
import type { FeedbackDeps } from './deps.js';

export interface UnpreviewJob {
  app: string;
  target: string;
  forge: string;
  number: number;
}

/**
 * A closed or merged pull/merge request takes its preview tag (`pr-<n>`, GitLab `mr-<iid>`) off the app;
 * the revision behind it is collected with the target's other unreferenced revisions. Runs from the
 * feedback queue (the webhook only stores and enqueues), whether or not the forge takes reports: a failure
 * is retried by the queue, and the preview sweep removes what is still left after that.
 */
export async function removePreview(deps: FeedbackDeps, job: UnpreviewJob): Promise<void> {
  if (!isForgeId(job.forge)) return;
  const target = deps.serving?.get(job.target);
  if (target === undefined) return;
  const tag = previewTag(job.forge, job.number);
  await target.removeTag(job.app, tag);
  deps.logger.info({ app: job.app, target: job.target, tag }, 'preview of a closed change request removed');
}
