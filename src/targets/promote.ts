import { isSlipwayError } from '../core/errors.js';
import { imageDigest } from './names.js';
import { moveAllTraffic, withTag } from './traffic.js';
import type { AppStatus, BuildOrigin, PromoteRequest, PromoteResult, Revision, ServingState, ServingTarget } from './types.js';

/**
 * Promotion through any target: idempotent and monotonic (docs/architecture.md: a build never moves
 * traffic to a commit older than the one serving).
 *
 * "Older" is **build creation order**: the `createdAt` of the build that produced a revision (stored
 * with it), ties broken by build id. Not commit dates: they are set by whoever commits, can go
 * backwards, and a rebase or cherry-pick makes old dates new. The build is created when Slipway
 * receives the push, so its order is the order pushes arrived in — the order a branch moved in.
 * A revision deployed without a build (by hand) has no place in that order and never blocks one.
 *
 * The decision is made on a snapshot of the route and written with compare-and-set on its generation,
 * so two workers promoting at once cannot both win: the loser decides again on fresh state.
 */

export const isOlder = (a: BuildOrigin, b: BuildOrigin): boolean => a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.id < b.id);

const describe = (r: Revision) => `${r.name} (commit ${r.build?.commit.slice(0, 12) ?? '?'}, build ${r.build?.id ?? '?'} created ${r.build?.createdAt ?? '?'})`;

/** The revisions serving the scope: the tag's revision, or every revision taking a share of the app's traffic. */
function servingNow(status: AppStatus, tag: string | undefined): Revision[] {
  const names = new Set(status.traffic.filter((t) => (tag ? t.tag === tag : t.percent > 0)).flatMap((t) => (t.revisionName ? [t.revisionName] : [])));
  return status.revisions.filter((r) => names.has(r.name));
}

const MAX_ATTEMPTS = 5;

function urlsOf(status: AppStatus, tag: string | undefined): { url: string; tagUrl?: string } {
  const tagged = tag ? status.traffic.find((t) => t.tag === tag)?.url : undefined;
  return { url: status.url, ...(tagged ? { tagUrl: tagged } : {}) };
}

export async function promoteThrough(target: ServingTarget, state: ServingState, app: string, request: PromoteRequest): Promise<PromoteResult> {
  const digest = imageDigest(request.image);
  const origin: BuildOrigin = { id: request.buildId, commit: request.commit, createdAt: request.buildCreatedAt };
  const scope = request.tag ? `tag ${request.tag} of app ${app}` : `app ${app}`;
  for (let attempt = 1; ; attempt++) {
    const status = await target.status(app);
    const urls = urlsOf(status, request.tag);
    const existing = await state.findRevisionForBuild(app, target.name, request.buildId, digest);
    const serving = servingNow(status, request.tag);

    if (existing && serving.some((r) => r.name === existing.name) && (existing.promotedAt || serving.length === 1)) {
      if (!existing.promotedAt) await state.updateRevision(app, existing.name, { promotedAt: new Date().toISOString() });
      return { revision: existing.name, ...urls, moved: true, reason: `${existing.name} already serves ${scope}` };
    }
    const newer = serving.find((r) => r.build && isOlder(origin, r.build));
    if (newer) {
      return {
        revision: existing?.name,
        ...urls,
        moved: false,
        reason: `${scope} serves ${describe(newer)}, a newer build than ${request.buildId} (commit ${request.commit.slice(0, 12)}, created ${request.buildCreatedAt}); promotion never moves traffic to an older build`,
      };
    }
    if (existing?.promotedAt && !request.tag) {
      // Promoted once, and someone moved traffic away since (slipway rollback / traffic): a retried job
      // must not undo that decision.
      return {
        revision: existing.name,
        ...urls,
        moved: false,
        reason: `${existing.name} was promoted at ${existing.promotedAt} and traffic was moved away since; not moving it back`,
      };
    }

    const revision =
      existing?.state === 'ready'
        ? existing
        : await target.deploy(app, {
            image: request.image,
            build: origin,
            ...(request.env ? { env: request.env } : {}),
            ...(request.secrets ? { secrets: request.secrets } : {}),
            ...(request.port !== undefined ? { port: request.port } : {}),
            ...(request.resources ? { resources: request.resources } : {}),
            ...(request.annotations ? { annotations: request.annotations } : {}),
          });
    const traffic = request.tag ? withTag(status.traffic, request.tag, revision.name) : moveAllTraffic(status.traffic, revision.name);
    let after: AppStatus;
    try {
      after = await target.setTraffic(app, traffic, { expectedGeneration: status.generation });
    } catch (err) {
      if (isSlipwayError(err, 'SLW_TRAFFIC_CONFLICT') && attempt < MAX_ATTEMPTS) continue;
      throw err;
    }
    await state.updateRevision(app, revision.name, { promotedAt: new Date().toISOString() });
    return { revision: revision.name, ...urlsOf(after, request.tag), moved: true };
  }
}
