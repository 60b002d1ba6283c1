import type { Kysely, Transaction } from 'kysely';
import { formatScope, type BuildScope } from '../core/scope.js';
import type { BuildQueue, FeedbackJob, FeedbackQueue } from '../queue/index.js';
import { cancelBuilds, cancelScope, createBuild, getBuilds, supersedeOlder, type Build, type Database, type NewBuild } from '../store/index.js';

/** A build to admit: the store's request with its scope as a typed value. */
export interface BuildRequest extends Omit<NewBuild, 'scope'> {
  scope: BuildScope;
}

/**
 * Builds to cancel with no newer build: the unfinished ones of one (app, target, scope) (a closed pull
 * request), or the listed ones that are still unfinished (`/cancel`).
 */
export type CancelRequest = ScopeCancel | { ids: readonly string[]; reason: string };

export interface ScopeCancel {
  app: string;
  target: string;
  scope: BuildScope;
  /** Stored as the builds' error message. */
  reason: string;
}

export interface AdmissionPlan {
  builds: readonly BuildRequest[];
  cancel?: readonly CancelRequest[] | undefined;
  /** Feedback-queue jobs to add after the commit (forge reports, comment commands, preview removal). */
  jobs?: readonly FeedbackJob[] | undefined;
  /**
   * Runs first, in the transaction (a delivery's row, an approval). Returning builds says this admission
   * was made before (a redelivery): nothing is created, and those builds are enqueued again.
   */
  before?: ((trx: Transaction<Database>) => Promise<readonly Build[] | undefined>) | undefined;
  /** Runs last, in the transaction, with what was made (the delivery's build ids). */
  after?: ((trx: Transaction<Database>, made: Admitted) => Promise<void>) | undefined;
}

export interface AdmissionDeps {
  db: Kysely<Database>;
  queue: BuildQueue;
  /** Absent: no forge reports and no jobs (a server run without the feedback queue). */
  feedback?: FeedbackQueue | undefined;
}

export interface Admitted {
  builds: { build: Build; created: boolean }[];
  /** Builds the new ones superseded, and those the plan canceled (their ids, in that order). */
  superseded: string[];
  /** The admission was made before (`before` returned its builds). */
  replayed: boolean;
}

/**
 * The one way builds enter Slipway (webhooks, uploads, `git push`, image promotions, comment commands):
 * create them and supersede older ones of the same scope in one transaction — (app, target, commit) builds
 * once, so a repeated request creates nothing — then, after the commit, enqueue and cancel. A job must
 * never run for a build row that a rollback took away, so nothing is enqueued inside the transaction.
 * Queued builds are enqueued again even when they existed: the job id coalesces, and it recovers a crash
 * (or a Redis outage) between an earlier commit and its enqueue.
 */
export async function admit(deps: AdmissionDeps, plan: AdmissionPlan): Promise<Admitted> {
  const admitted = await deps.db.transaction().execute(async (trx) => {
    const replay = plan.before ? await plan.before(trx) : undefined;
    if (replay !== undefined) return { builds: replay.map((build) => ({ build, created: false })), superseded: [], replayed: true };
    const made: Admitted = { builds: [], superseded: [], replayed: false };
    for (const request of plan.builds) {
      const result = await createBuild(trx, { ...request, scope: formatScope(request.scope) });
      made.builds.push(result);
      if (result.created) made.superseded.push(...(await supersedeOlder(trx, result.build)));
    }
    for (const c of plan.cancel ?? []) {
      const canceled =
        'ids' in c ? await cancelBuilds(trx, c.ids, c.reason) : await cancelScope(trx, { app: c.app, target: c.target, scope: formatScope(c.scope) }, c.reason);
      made.superseded.push(...canceled);
    }
    if (plan.after) await plan.after(trx, made);
    return made;
  });

  await deps.queue.enqueue(admitted.builds.filter((b) => b.build.state === 'queued').map((b) => b.build.id));
  if (admitted.superseded.length > 0) await deps.queue.cancel(admitted.superseded);
  if (deps.feedback) {
    // Statuses for the new builds and `canceled` for the ones they replaced; FeedbackQueue skips forges
    // without API access. Repeated jobs coalesce on their ids.
    const superseded = await getBuilds(deps.db, admitted.superseded);
    await deps.feedback.addForBuilds([...admitted.builds.map((b) => b.build), ...superseded]);
    await deps.feedback.add(plan.jobs ?? []);
  }
  return admitted;
}

/**
 * Dedupe key suffix of a pull request's preview builds (stored; the same on every forge): a preview of a
 * commit is a different build from the same commit on a branch; `variant` tells approved builds and
 * `/retest` builds of the same commit apart.
 */
export const previewDedupe = (number: number, variant?: string): string => (variant ? `pr-${number}:${variant}` : `pr-${number}`);
