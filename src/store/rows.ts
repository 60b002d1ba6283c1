import type { BuildState, BuildTrigger } from '../core/types.js';
import type {
  AppEnvVar,
  Build,
  BuildPatch,
  BuildStep,
  Delivery,
  LogLevel,
  LogLine,
  PolicyDecision,
  PreviewApproval,
  Revision,
  Route,
  RuntimeEvent,
  StageRun,
} from './model.js';
import type {
  AppEnvRow,
  AuditDecisionRow,
  BuildLogRow,
  BuildRow,
  BuildsTable,
  BuildStageRow,
  BuildStepRow,
  DeliveryRow,
  PreviewApprovalRow,
  RevisionRow,
  RouteRow,
  RuntimeEventRow,
} from './schema.js';

/**
 * Rows ↔ domain records (model.ts), the only place that knows both. PostgreSQL returns `bigserial` and
 * `bigint` columns as text, so every id and count goes through Number().
 */

const num = (value: number | string): number => Number(value);
const numOrNull = (value: number | string | null): number | null => (value === null ? null : Number(value));

export const toBuild = (r: BuildRow): Build => ({
  id: r.id,
  app: r.app,
  target: r.target,
  commit: r.commit_sha,
  ref: r.ref,
  scope: r.scope,
  trigger: r.trigger as BuildTrigger,
  forge: r.forge,
  deliveryId: r.delivery_id,
  repo: r.repo,
  cloneUrl: r.clone_url,
  fork: num(r.fork) === 1,
  prNumber: numOrNull(r.pr_number),
  sender: r.sender,
  state: r.state as BuildState,
  stage: r.stage,
  digest: r.digest,
  errorCode: r.error_code,
  errorMessage: r.error_message,
  dedupeKey: r.dedupe_key,
  supersededBy: r.superseded_by,
  sourceBuild: r.source_build,
  attempts: num(r.attempts),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

/** The columns a BuildPatch sets; keys left out of the patch are left out here (not set to null). */
export function buildPatchRow(p: BuildPatch): Partial<BuildsTable> {
  const row: Partial<BuildsTable> = {};
  if (p.stage !== undefined) row.stage = p.stage;
  if (p.digest !== undefined) row.digest = p.digest;
  if (p.errorCode !== undefined) row.error_code = p.errorCode;
  if (p.errorMessage !== undefined) row.error_message = p.errorMessage;
  if (p.attempts !== undefined) row.attempts = p.attempts;
  if (p.startedAt !== undefined) row.started_at = p.startedAt;
  if (p.finishedAt !== undefined) row.finished_at = p.finishedAt;
  return row;
}

export const toDelivery = (r: DeliveryRow): Delivery => ({
  forge: r.forge,
  deliveryId: r.delivery_id,
  event: r.event,
  repo: r.repo,
  receivedAt: r.received_at,
  outcome: r.outcome as Delivery['outcome'],
  reason: r.reason,
  buildIds: JSON.parse(r.build_ids) as string[],
});

export const toStageRun = (r: BuildStageRow): StageRun => ({
  buildId: r.build_id,
  stage: r.stage,
  state: r.state as StageRun['state'],
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  durationMs: numOrNull(r.duration_ms),
  output: r.output,
});

export const toLogLine = (r: BuildLogRow): LogLine => ({
  id: num(r.id),
  buildId: r.build_id,
  ts: r.ts,
  stage: r.stage,
  level: r.level as LogLevel,
  line: r.line,
});

export const toPolicyDecision = (r: AuditDecisionRow): PolicyDecision => ({
  id: num(r.id),
  buildId: r.build_id,
  gate: r.gate as PolicyDecision['gate'],
  policy: r.policy,
  ruleIndex: numOrNull(r.rule_index),
  mode: r.mode as PolicyDecision['mode'],
  outcome: r.outcome as PolicyDecision['outcome'],
  message: r.message,
  subject: r.subject,
  createdAt: r.created_at,
});

export const toRevision = (r: RevisionRow): Revision => ({
  name: r.name,
  app: r.app,
  target: r.target,
  n: num(r.n),
  digest: r.digest,
  buildId: r.build_id,
  commit: r.commit_sha,
  state: r.state,
  createdAt: r.created_at,
  image: r.image,
  buildCreatedAt: r.build_created_at,
  spec: r.spec,
  message: r.message,
  promotedAt: r.promoted_at,
});

export const toRoute = (r: RouteRow): Route => ({
  app: r.app,
  target: r.target,
  traffic: r.traffic,
  generation: num(r.generation),
  updatedAt: r.updated_at,
});

export const toBuildStep = (r: BuildStepRow): BuildStep => ({
  buildId: r.build_id,
  index: num(r.idx),
  name: r.name,
  digest: r.digest,
  cached: num(r.cached) === 1,
  startedAt: r.started_at,
  completedAt: r.completed_at,
  durationMs: numOrNull(r.duration_ms),
  error: r.error,
});

export const toPreviewApproval = (r: PreviewApprovalRow): PreviewApproval => ({
  app: r.app,
  prNumber: num(r.pr_number),
  forge: r.forge,
  repo: r.repo,
  approvedBy: r.approved_by,
  via: r.via as PreviewApproval['via'],
  commit: r.commit_sha,
  approvedAt: r.approved_at,
});

export const toRuntimeEvent = (r: RuntimeEventRow): RuntimeEvent => ({
  id: num(r.id),
  app: r.app,
  target: r.target,
  revision: r.revision,
  container: r.container,
  minute: r.minute,
  decision: r.decision,
  rule: r.rule,
  syscall: r.syscall,
  path: r.path,
  sha256: r.sha256,
  uid: numOrNull(r.uid),
  parent: r.parent,
  firstAt: r.first_at,
  lastAt: r.last_at,
  count: num(r.count),
});

export const toAppEnvVar = (r: AppEnvRow): AppEnvVar => ({
  app: r.app,
  target: r.target,
  name: r.name,
  secret: num(r.secret) === 1,
  value: r.value,
  updatedAt: r.updated_at,
  updatedBy: r.updated_by,
});
