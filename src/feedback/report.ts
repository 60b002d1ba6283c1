import { appsOfRepo } from '../config/index.js';
import { SlipwayError } from '../core/errors.js';
import { isFailureState, type BuildState } from '../core/types.js';
import type { ForgeFeedback } from '../forges/types.js';
import {
  changeRequestKey,
  getBuild,
  getHandle,
  listChangeRequestBuilds,
  listDeploymentHandles,
  newestPerTarget,
  setHandle,
  type Build,
} from '../store/index.js';
import type { FeedbackDeps } from './deps.js';
import { commentMarkdown, COMMENT_MARKER, describe, refName, statusReport } from './render.js';
import { forgeTerms, isForgeId } from '../forges/terms.js';
import { environmentOf, snapshotOf } from './snapshot.js';

/**
 * The feedback jobs' work: read the current state from the store, tell the forge, keep the handle it
 * gave back. Each is idempotent, so a retried or repeated job only says the same thing again.
 */

function feedbackOf(deps: FeedbackDeps, forge: string | null): ForgeFeedback | undefined {
  return isForgeId(forge) ? deps.forges.get(forge)?.feedback : undefined;
}

async function forgeBuild(deps: FeedbackDeps, buildId: string): Promise<{ build: Build; forge: ForgeFeedback } | undefined> {
  const build = await getBuild(deps.store.db, buildId);
  if (build === undefined || build.repo === null) return undefined;
  const forge = feedbackOf(deps, build.forge);
  return forge === undefined ? undefined : { build, forge };
}

/** The build's check run or commit status. */
export async function reportStatus(deps: FeedbackDeps, buildId: string): Promise<void> {
  const found = await forgeBuild(deps, buildId);
  if (found === undefined) return;
  const snapshot = await snapshotOf(deps.store, deps.config, found.build);
  const handle = await getHandle(deps.store.db, buildId, 'status');
  const next = await found.forge.publishStatus(statusReport(snapshot), handle);
  if (next !== undefined && next !== handle) await setHandle(deps.store.db, { subject: buildId, kind: 'status', handle: next, buildId });
}

const DEPLOYING: ReadonlySet<string> = new Set<BuildState>(['promoting', 'ready']);

/**
 * A deployment once the build promotes (`promoting` → in_progress, `ready` → success with the URL when
 * serving recorded a revision). A build that ends badly after its deployment began marks it failed;
 * one that never promoted has no deployment to tell about.
 */
export async function reportDeployment(deps: FeedbackDeps, buildId: string): Promise<void> {
  const found = await forgeBuild(deps, buildId);
  if (found === undefined) return;
  const { build, forge } = found;
  const handle = await getHandle(deps.store.db, buildId, 'deployment');
  const ended = isFailureState(build.state);
  if (!DEPLOYING.has(build.state) && !(ended && handle !== undefined)) return;
  const snapshot = await snapshotOf(deps.store, deps.config, build);
  const environment = environmentOf(deps.config, build);
  const state = build.state === 'ready' ? 'success' : build.state === 'promoting' ? 'in_progress' : 'failure';
  const next = await forge.publishDeployment(
    {
      repo: build.repo ?? '',
      sha: build.commit,
      ref: refName(build),
      environment,
      transient: build.prNumber !== null,
      state,
      environmentUrl: state === 'success' ? snapshot.url : undefined,
      logUrl: snapshot.buildUrl,
      description: describe(snapshot),
    },
    handle,
  );
  if (next !== handle) {
    await setHandle(deps.store.db, {
      subject: buildId,
      kind: 'deployment',
      handle: next,
      buildId,
      changeRequest: build.prNumber === null || build.forge === null ? null : changeRequestKey(build.forge, build.repo ?? '', build.prNumber),
      environment,
    });
  }
}

export interface ChangeRequestJob {
  forge: string;
  repo: string;
  number: number;
}

/** The pull request's one comment, showing its newest build per app and target. */
export async function reportComment(deps: FeedbackDeps, cr: ChangeRequestJob): Promise<void> {
  const forge = feedbackOf(deps, cr.forge);
  if (forge === undefined) return;
  const builds = newestPerTarget(await listChangeRequestBuilds(deps.store.db, cr.forge, cr.repo, cr.number));
  if (builds.length === 0) return;
  const snapshots = await Promise.all(builds.map((b) => snapshotOf(deps.store, deps.config, b)));
  const body = commentMarkdown({ number: cr.number, forge: cr.forge, builds: snapshots, fork: builds.some((b) => b.fork) });
  const key = changeRequestKey(cr.forge, cr.repo, cr.number);
  const handle = await getHandle(deps.store.db, key, 'comment');
  const id = await forge.upsertComment({ repo: cr.repo, number: cr.number, marker: COMMENT_MARKER, body }, handle);
  if (id !== handle) await setHandle(deps.store.db, { subject: key, kind: 'comment', handle: id, changeRequest: key });
}

/** The pull request closed: its preview environment(s) are retired (GitHub `inactive`, GitLab stopped). */
export async function retireChangeRequest(deps: FeedbackDeps, cr: ChangeRequestJob): Promise<void> {
  const forge = feedbackOf(deps, cr.forge);
  if (forge === undefined || !isForgeId(cr.forge)) return;
  const byHandle = forgeTerms(cr.forge).retiresByHandle;
  const key = changeRequestKey(cr.forge, cr.repo, cr.number);
  const apps = appsOfRepo(deps.config.apps, cr.forge, cr.repo).filter((a) => a.previews !== undefined);
  const environments = new Set(
    apps.map((a) => environmentOf(deps.config, { app: a.name, target: a.previews?.target ?? '', forge: cr.forge, repo: cr.repo, prNumber: cr.number })),
  );
  for (const environment of environments) {
    const handles = await listDeploymentHandles(deps.store.db, key, environment);
    // A forge that retires deployments one by one has nothing to retire when Slipway made none.
    if (handles.length === 0 && byHandle) continue;
    await forge.retireEnvironment(cr.repo, environment, handles);
  }
}

/** Non-retryable forge errors (bad credentials, a request the forge refuses) are not worth retrying. */
export function isPermanent(err: unknown): boolean {
  return err instanceof SlipwayError && !err.retryable;
}
