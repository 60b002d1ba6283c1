import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * Table shapes. Timestamps are ISO-8601 UTC strings and booleans are 0/1 integers in both SQLite
 * and PostgreSQL: one representation means one set of queries and no per-dialect parsing.
 */

export interface DeliveriesTable {
  forge: string;
  delivery_id: string;
  event: string;
  repo: string | null;
  received_at: string;
  /** `accepted` (builds made), `ignored` (reason says why). */
  outcome: string;
  reason: string | null;
  /** JSON array of build ids created for this delivery. */
  build_ids: string;
}

export interface BuildsTable {
  id: string;
  app: string;
  target: string;
  commit_sha: string;
  ref: string;
  /** What cancel-in-progress groups by: `branch:main`, `tag:v1`, `pr:12`. */
  scope: string;
  trigger: string;
  forge: string | null;
  delivery_id: string | null;
  repo: string | null;
  clone_url: string;
  fork: number;
  pr_number: number | null;
  sender: string | null;
  state: string;
  /** Stage running now, or the last one that ran. */
  stage: string | null;
  digest: string | null;
  error_code: string | null;
  error_message: string | null;
  /** `app:target:commit[:extra]`; unique among builds that were not canceled. */
  dedupe_key: string;
  superseded_by: string | null;
  /** Image promotions (trigger `image`): the build that made the promoted digest, when Slipway made it. */
  source_build: string | null;
  attempts: number;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface BuildStagesTable {
  build_id: string;
  stage: string;
  /** `running` | `done` | `failed` | `canceled` */
  state: string;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  /** JSON: what the stage produced; the checkpoint a resumed build starts from. */
  output: string | null;
}

export interface BuildLogsTable {
  id: Generated<number>;
  build_id: string;
  ts: string;
  stage: string | null;
  /** `info` | `warn` | `error` */
  level: string;
  line: string;
}

export interface AuditDecisionsTable {
  id: Generated<number>;
  build_id: string | null;
  gate: string;
  policy: string;
  rule_index: number | null;
  mode: string;
  /** `allow` | `deny` | `warn` */
  outcome: string;
  message: string;
  subject: string | null;
  created_at: string;
}

export interface RevisionsTable {
  name: string;
  app: string;
  target: string;
  n: number;
  digest: string;
  build_id: string | null;
  commit_sha: string | null;
  /** `created` | `ready` | `failed` | `deleted` (the row stays so the name is never reused). */
  state: string;
  created_at: string;
  /** `registry/repo@sha256:…` the revision runs. */
  image: string | null;
  /** Creation time of the build that made it: what "older" means for monotonic promotion. */
  build_created_at: string | null;
  /** JSON: env, port, resources, annotations. */
  spec: string | null;
  /** Why the revision failed, when it did. */
  message: string | null;
  /** When a promotion first moved traffic to it. */
  promoted_at: string | null;
}

/** An app's traffic on one target (Knative's Route `spec.traffic`), written by compare-and-set on `generation`. */
export interface RoutesTable {
  app: string;
  target: string;
  /** JSON array of traffic targets `{revision | latestRevision, percent, tag}`. */
  traffic: string;
  generation: number;
  updated_at: string;
}

/** One step of the image build (a BuildKit vertex), in the order BuildKit reported it. */
export interface BuildStepsTable {
  build_id: string;
  /** 1-based order within the build. */
  idx: number;
  name: string;
  /** BuildKit vertex digest. */
  digest: string;
  cached: number;
  started_at: string | null;
  completed_at: string | null;
  duration_ms: number | null;
  error: string | null;
}

/**
 * What a forge returned for something Slipway reported: a check run id per build, a comment id
 * per pull request, a deployment id per build; kept so the next report updates instead of adding.
 */
export interface ForgeHandlesTable {
  /** A build id, or a pull request `forge:repo#number`. */
  subject: string;
  /** `status` | `deployment` | `comment` */
  kind: string;
  /** Opaque to the store: the forge module reads it back. */
  handle: string;
  build_id: string | null;
  /** `forge:repo#number` of the pull request the subject belongs to (to retire its deployments). */
  change_request: string | null;
  environment: string | null;
  updated_at: string;
}

/** A maintainer's approval of a fork pull request's preview (`/ok-to-test` or the label). */
export interface PreviewApprovalsTable {
  app: string;
  pr_number: number;
  forge: string;
  repo: string;
  approved_by: string;
  /** `comment` | `label` */
  via: string;
  /** Head commit when approved. */
  commit_sha: string | null;
  approved_at: string;
}

/**
 * A runtime decision of the enforcer, deduplicated per minute (see runtime-events.ts). Every text
 * field came from a container's stderr, which the app can write too: display only, never trusted.
 */
export interface RuntimeEventsTable {
  id: Generated<number>;
  /** sha256 of (app, revision, minute, decision, rule, path): the upsert key. */
  dedupe: string;
  app: string;
  target: string;
  revision: string;
  /** The last container (Engine id) the decision was read from. */
  container: string;
  /** Start of the minute (ISO, UTC) the row counts. */
  minute: string;
  /** `denied` | `audited` | `allowed` */
  decision: string;
  rule: string;
  syscall: string;
  path: string;
  sha256: string | null;
  uid: number | null;
  parent: string | null;
  /** The Engine's timestamps of the first and last line counted (not the line's own claim). */
  first_at: string;
  last_at: string;
  count: number;
}

/** One environment variable of an app on a target (`slipway env`); a secret's value is sealed (AES-256-GCM), never plain. */
export interface AppEnvTable {
  app: string;
  target: string;
  name: string;
  /** 1: `value` is sealed text (src/secrets/box.ts) and is never shown. */
  secret: number;
  value: string;
  updated_at: string;
  /** Who changed it (the API principal's name). */
  updated_by: string | null;
}

export interface Database {
  deliveries: DeliveriesTable;
  builds: BuildsTable;
  build_stages: BuildStagesTable;
  build_logs: BuildLogsTable;
  audit_decisions: AuditDecisionsTable;
  revisions: RevisionsTable;
  routes: RoutesTable;
  build_steps: BuildStepsTable;
  forge_handles: ForgeHandlesTable;
  preview_approvals: PreviewApprovalsTable;
  runtime_events: RuntimeEventsTable;
  app_env: AppEnvTable;
}

export type AppEnvRow = Selectable<AppEnvTable>;

export type BuildRow = Selectable<BuildsTable>;
export type NewBuildRow = Insertable<BuildsTable>;
export type BuildPatch = Updateable<BuildsTable>;
export type DeliveryRow = Selectable<DeliveriesTable>;
export type BuildLogRow = Selectable<BuildLogsTable>;
export type BuildStageRow = Selectable<BuildStagesTable>;
export type AuditDecisionRow = Selectable<AuditDecisionsTable>;
export type RevisionRow = Selectable<RevisionsTable>;
export type RouteRow = Selectable<RoutesTable>;
export type BuildStepRow = Selectable<BuildStepsTable>;
export type ForgeHandleRow = Selectable<ForgeHandlesTable>;
export type PreviewApprovalRow = Selectable<PreviewApprovalsTable>;
export type RuntimeEventRow = Selectable<RuntimeEventsTable>;
