import type { PromotedRevision } from '../core/stage-outputs.js';
import type { BuildRow } from '../store/index.js';

/**
 * The public shape of a build (API, webhook answers, CLI --json). The clone URL is left out: it may
 * carry credentials.
 */
export function buildView(b: BuildRow, publicUrl: string) {
  return {
    id: b.id,
    app: b.app,
    target: b.target,
    state: b.state,
    stage: b.stage,
    commit: b.commit_sha,
    ref: b.ref,
    trigger: b.trigger,
    forge: b.forge,
    repo: b.repo,
    deliveryId: b.delivery_id,
    fork: b.fork === 1,
    prNumber: b.pr_number,
    sender: b.sender,
    digest: b.digest,
    error: b.error_code ? { code: b.error_code, message: b.error_message } : null,
    supersededBy: b.superseded_by,
    sourceBuild: b.source_build,
    attempts: b.attempts,
    createdAt: b.created_at,
    updatedAt: b.updated_at,
    startedAt: b.started_at,
    finishedAt: b.finished_at,
    url: `${publicUrl.replace(/\/$/, '')}/builds/${b.id}`,
  };
}

export type BuildView = ReturnType<typeof buildView>;

/** `GET /api/v1/builds/:id`: the build with, among its stages and steps, the revision its promote stage made. */
export type BuildDetailView = BuildView & { revision: PromotedRevision | null };
