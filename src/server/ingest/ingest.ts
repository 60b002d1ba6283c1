import type { Kysely } from 'kysely';
import { admit, type AdmissionPlan } from '../../admission/index.js';
import type { ForgeEvent } from '../../forges/events.js';
import type { AppConfig } from '../../config/index.js';
import type { BuildQueue, FeedbackJob, FeedbackQueue } from '../../queue/index.js';
import { getBuilds, getDelivery, insertDelivery, setDeliveryBuilds, type Build, type Database } from '../../store/index.js';
import { planBuilds, type BuildPlan } from './plan.js';

export interface IngestResult {
  builds: Build[];
  duplicate: boolean;
  reason: string | undefined;
}

export interface IngestInput {
  forge: string;
  deliveryId: string;
  /** The event header's value (`push`, `Merge Request Hook`), stored with the delivery. */
  eventName: string;
  /** The normalized event, or why it was ignored. */
  event: ForgeEvent | { ignored: string };
}

/**
 * Stores a verified delivery and admits its builds (src/admission) in the same transaction. A delivery
 * id seen before creates nothing; its queued builds are enqueued again, which is what makes a retried
 * delivery recover from a crash (or a Redis outage) between commit and enqueue.
 */
export async function ingestDelivery(
  deps: { db: Kysely<Database>; queue: BuildQueue; apps: readonly AppConfig[]; feedback?: FeedbackQueue | undefined },
  input: IngestInput,
): Promise<IngestResult> {
  const receivedAt = new Date().toISOString();
  const event = 'ignored' in input.event ? undefined : input.event;
  const ignored = 'ignored' in input.event ? input.event.ignored : undefined;
  const plan = event === undefined ? undefined : planBuilds(event, deps.apps);
  let reason = plan === undefined ? ignored : plan.reasons.length > 0 ? plan.reasons.join('; ') : undefined;

  const admission: AdmissionPlan = {
    builds: plan?.builds ?? [],
    cancel: plan?.cancel,
    jobs: event === undefined || plan === undefined ? [] : feedbackJobs(deps.feedback, event, plan),
    before: async (trx) => {
      const fresh = await insertDelivery(trx, {
        forge: input.forge,
        deliveryId: input.deliveryId,
        event: input.eventName,
        repo: event?.repo.fullName ?? null,
        receivedAt,
        outcome: 'ignored',
        reason: ignored ?? null,
      });
      if (fresh) return undefined;
      const existing = await getDelivery(trx, input.forge, input.deliveryId);
      reason = existing?.reason ?? undefined;
      return existing ? getBuilds(trx, existing.buildIds) : [];
    },
    after: async (trx, made) => {
      if (plan)
        await setDeliveryBuilds(
          trx,
          input.forge,
          input.deliveryId,
          made.builds.map((b) => b.build.id),
          reason ?? null,
        );
    },
  };
  const admitted = await admit(deps, admission);
  return { builds: admitted.builds.map((b) => b.build), duplicate: admitted.replayed, reason };
}

/**
 * Jobs for the feedback queue besides the builds' own reports: comment commands (checked against the
 * sender's permission there), a closed pull request's retired environment and comment — when the forge
 * takes reports — and its previews' removal from serving, always (a worker's job: the webhook only stores
 * and enqueues). A repeated delivery queues the same jobs again (job ids coalesce them), which recovers
 * from a failure between storing and queueing as the builds' own enqueue does.
 */
function feedbackJobs(feedback: FeedbackQueue | undefined, event: ForgeEvent, plan: BuildPlan): FeedbackJob[] {
  const jobs: FeedbackJob[] = [];
  const reports = feedback?.reportsTo(event.forge) ?? false;
  if (reports && plan.command && (event.kind === 'comment' || event.kind === 'label')) {
    jobs.push({ kind: 'command', deliveryId: event.deliveryId, event: { ...event } });
  }
  if (plan.closed && event.kind === 'change_request') {
    if (reports) {
      jobs.push({ kind: 'close', forge: event.forge, repo: event.repo.fullName, number: event.number });
      jobs.push({ kind: 'comment', forge: event.forge, repo: event.repo.fullName, number: event.number });
    }
    for (const c of plan.cancel) jobs.push({ kind: 'unpreview', app: c.app, target: c.target, forge: event.forge, number: event.number });
  }
  return jobs;
}
