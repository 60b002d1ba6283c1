import type { PromotedRevision } from '../core/stage-outputs.js';
import type { Build } from '../store/index.js';

/**
 * The public shape of a build (API, webhook answers, CLI --json). The clone URL is left out: it may
 * carry credentials.
 */
export function buildView(b: Build, publicUrl: string) {
  return {
    id: b.id,
    app: b.app,
    target: b.target,
    state: b.state,
    stage: b.stage,
    commit: b.commit,
    ref: b.ref,
    trigger: b.trigger,
    forge: b.forge,
    repo: b.repo,
    deliveryId: b.deliveryId,
    fork: b.fork,
    prNumber: b.prNumber,
    sender: b.sender,
    digest: b.digest,
    error: b.errorCode ? { code: b.errorCode, message: b.errorMessage } : null,
    supersededBy: b.supersededBy,
    sourceBuild: b.sourceBuild,
    attempts: b.attempts,
    createdAt: b.createdAt,
    updatedAt: b.updatedAt,
    startedAt: b.startedAt,
    finishedAt: b.finishedAt,
    url: `${publicUrl.replace(/\/$/, '')}/builds/${b.id}`,
  };
}

export type BuildView = ReturnType<typeof buildView>;

/** `GET /api/v1/builds/:id`: the build with, among its stages and steps, the revision its promote stage made. */
export type BuildDetailView = BuildView & { revision: PromotedRevision | null };
