import type { BuildState, BuildTrigger } from '../core/types.js';

/**
 * What the store hands out and takes in: camelCase records with real booleans and parsed lists. Rows
 * (snake_case columns, 0/1 integers, JSON text; `schema.ts`) never leave the store: `rows.ts` maps
 * them to these types and back. Payloads whose shape belongs to another module (a stage's output, a
 * revision's spec, a route's traffic) stay JSON text here; that module parses them.
 */

/** A build of (app, target, commit). */
export interface Build {
  id: string;
  app: string;
  target: string;
  /** The commit built (40 hex), or an upload's or image's stand-in. */
  commit: string;
  ref: string;
  /** What cancel-in-progress groups by: `branch:main`, `tag:v1`, `pr:12` (`src/core/scope.ts`). */
  scope: string;
  trigger: BuildTrigger;
  forge: string | null;
  deliveryId: string | null;
  repo: string | null;
  cloneUrl: string;
  /** The change request's head lives in another repository (no secrets, no preview without approval). */
  fork: boolean;
  prNumber: number | null;
  sender: string | null;
  state: BuildState;
  /** Stage running now, or the last one that ran. */
  stage: string | null;
  digest: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  /** `app:target:commit[:extra]`; unique among builds that were not canceled. */
  dedupeKey: string;
  supersededBy: string | null;
  /** Image promotions (trigger `image`): the build that made the promoted digest, when Slipway made it. */
  sourceBuild: string | null;
  attempts: number;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** What a worker may change on a build besides its state (which moves by compare-and-set only). */
export type BuildPatch = Partial<Pick<Build, 'stage' | 'digest' | 'errorCode' | 'errorMessage' | 'attempts' | 'startedAt' | 'finishedAt'>>;

/** A forge webhook delivery. */
export interface Delivery {
  forge: string;
  /** The forge's delivery id: the dedupe key. */
  deliveryId: string;
  event: string;
  repo: string | null;
  receivedAt: string;
  outcome: 'accepted' | 'ignored';
  /** Why nothing was built, when nothing was. */
  reason: string | null;
  buildIds: string[];
}

/** One run of a stage of a build. */
export interface StageRun {
  buildId: string;
  stage: string;
  state: 'running' | 'done' | 'failed' | 'canceled';
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  /** JSON text of what the stage produced: the checkpoint a resumed build starts from. */
  output: string | null;
}

export type LogLevel = 'info' | 'warn' | 'error';

/** A log line of a build; its id orders lines within a build and lets a follower resume after it. */
export interface LogLine {
  id: number;
  buildId: string;
  ts: string;
  stage: string | null;
  level: LogLevel;
  line: string;
}

/** A policy rule's decision at a gate. */
export interface PolicyDecision {
  id: number;
  buildId: string | null;
  gate: 'source' | 'build' | 'image' | 'promote';
  policy: string;
  ruleIndex: number | null;
  mode: 'enforce' | 'audit';
  outcome: 'allow' | 'deny' | 'warn';
  message: string;
  /** What was judged: a digest, a commit, a ref. */
  subject: string | null;
  createdAt: string;
}

/** An immutable revision `<app>-<n>`. */
export interface Revision {
  name: string;
  app: string;
  target: string;
  n: number;
  digest: string;
  buildId: string | null;
  commit: string | null;
  /** `created` | `ready` | `failed` | `deleted` (the record stays so the name is never reused). */
  state: string;
  createdAt: string;
  /** `registry/repo@sha256:…` the revision runs. */
  image: string | null;
  /** Creation time of the build that made it: what "older" means for monotonic promotion. */
  buildCreatedAt: string | null;
  /** JSON text of the serving target's spec (env, port, resources, annotations). */
  spec: string | null;
  /** Why the revision failed, when it did. */
  message: string | null;
  /** When a promotion first moved traffic to it. */
  promotedAt: string | null;
}

/** An app's traffic on one target, written by compare-and-set on `generation`. */
export interface Route {
  app: string;
  target: string;
  /** JSON text of the serving target's traffic list. */
  traffic: string;
  generation: number;
  updatedAt: string;
}

/** One step of the image build (a BuildKit vertex). */
export interface BuildStep {
  buildId: string;
  /** 1-based order within the build. */
  index: number;
  name: string;
  /** BuildKit vertex digest. */
  digest: string;
  cached: boolean;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
  error: string | null;
}

/** A maintainer's approval of a fork pull request's preview. */
export interface PreviewApproval {
  app: string;
  prNumber: number;
  forge: string;
  repo: string;
  approvedBy: string;
  via: 'comment' | 'label';
  /** Head commit when approved. */
  commit: string | null;
  approvedAt: string;
}

/**
 * A runtime decision of the enforcer counted over one minute. Every text field came from a container's
 * stderr, which the app can write too: display only, never trusted.
 */
export interface RuntimeEvent {
  id: number;
  app: string;
  target: string;
  revision: string;
  /** The last container (Engine id) the decision was read from. */
  container: string;
  /** Start of the minute (ISO, UTC) counted. */
  minute: string;
  /** `denied` | `audited` | `allowed` */
  decision: string;
  rule: string;
  syscall: string;
  path: string;
  sha256: string | null;
  uid: number | null;
  parent: string | null;
  /** The Engine's timestamps of the first and last line counted. */
  firstAt: string;
  lastAt: string;
  count: number;
}

/** A variable of an app's environment on one target, as `slipway env` stored it. */
export interface AppEnvVar {
  app: string;
  target: string;
  name: string;
  /** `value` is sealed text (src/secrets/box.ts) and is never shown. */
  secret: boolean;
  value: string;
  updatedAt: string;
  /** Who changed it (the API principal's name). */
  updatedBy: string | null;
}
