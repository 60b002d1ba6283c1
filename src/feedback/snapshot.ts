import { posix } from 'node:path';
import { hostPort } from '../core/host-port.js';
import { previewTag } from '../forges/terms.js';
import { appsOfRepo, type AppConfig, type SlipwayConfig } from '../config/index.js';
import {
  getApproval,
  getBuild,
  getRevisionOfBuild,
  listBuildSteps,
  listDecisions,
  listStages,
  runtimeSummary,
  type PolicyDecision,
  type Build,
  type StageRun,
  type BuildStep,
  type PreviewApproval,
  type Revision,
  type RuntimeSummary,
  type Store,
} from '../store/index.js';

/**
 * Everything a report says about one build, read from the store when the report runs (never carried
 * in the job): the newest state wins however retries overlap.
 */
export interface BuildSnapshot {
  build: Build;
  app: AppConfig | undefined;
  stages: StageRun[];
  steps: BuildStep[];
  decisions: PolicyDecision[];
  /** Present once serving recorded a revision made from this build. */
  revision: Revision | undefined;
  /** Where the revision serves, when there is a revision. */
  url: string | undefined;
  /** `server.publicUrl` + `/builds/<id>`. */
  buildUrl: string;
  /** Fork pull requests: the maintainer's approval, if given. */
  approval: PreviewApproval | undefined;
  /** The enforcer's denied and audited execs in the build's revision, once there are any (display only: the app can forge them). */
  runtime?: RuntimeSummary | undefined;
}

export async function loadSnapshot(store: Store, config: SlipwayConfig, buildId: string): Promise<BuildSnapshot | undefined> {
  const build = await getBuild(store.db, buildId);
  if (!build) return undefined;
  return snapshotOf(store, config, build);
}

export async function snapshotOf(store: Store, config: SlipwayConfig, build: Build): Promise<BuildSnapshot> {
  const { db } = store;
  const [stages, steps, decisions, revision, approval] = await Promise.all([
    listStages(db, build.id),
    listBuildSteps(db, build.id),
    listDecisions(db, build.id),
    getRevisionOfBuild(db, build.id),
    build.prNumber === null ? Promise.resolve(undefined) : getApproval(db, build.app, build.prNumber),
  ]);
  const app = config.apps.find((a) => a.name === build.app);
  const runtime = revision === undefined ? undefined : await runtimeSummary(db, revision.app, revision.name);
  return {
    build,
    app,
    stages,
    steps,
    decisions,
    revision,
    url: revision === undefined ? undefined : revisionUrl(config, build),
    buildUrl: buildPageUrl(config, build.id),
    approval,
    runtime,
  };
}

export const buildPageUrl = (config: SlipwayConfig, buildId: string): string => `${config.server.publicUrl.replace(/\/$/, '')}/builds/${buildId}`;

/**
 * docs/architecture.md: app URL `http://<app>.<domain>`, tag URL `http://<tag>-<app>.<domain>`.
 * The local target's router listens on its own port, which the URL must carry unless it is 80.
 */
export function revisionUrl(config: SlipwayConfig, build: Build): string | undefined {
  const target = config.targets[build.target];
  if (target === undefined) return undefined;
  const host = build.prNumber === null ? `${build.app}.${target.domain}` : `${previewTag(build.forge, build.prNumber)}-${build.app}.${target.domain}`;
  const port = target.kind === 'local' ? hostPort(target.listen).port : 80;
  return `http://${host}${port === 80 ? '' : `:${port}`}`;
}

/**
 * The deployment environment: the target's name, or `preview/pr-<n>` (`preview/mr-<iid>` on
 * GitLab) for pull requests. When one repository feeds several apps their previews would share that
 * name, so the app is appended then.
 */
export function environmentOf(config: SlipwayConfig, build: Pick<Build, 'app' | 'target' | 'forge' | 'repo' | 'prNumber'>): string {
  if (build.prNumber === null) return build.target;
  const base = `preview/${previewTag(build.forge, build.prNumber)}`;
  return appsOfRepo(config.apps, build.forge, build.repo).length > 1 ? `${base}/${build.app}` : base;
}

/** Repository path a policy annotation points at: the app's Dockerfile, which every gate judged. */
export function dockerfilePath(app: AppConfig | undefined): string {
  if (app === undefined) return 'Dockerfile';
  return posix.normalize(posix.join(app.context, app.dockerfile)).replace(/^\.\//, '');
}
