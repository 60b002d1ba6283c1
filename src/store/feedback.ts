import type { Kysely } from 'kysely';
import { now } from './clock.js';
import type { Build, PreviewApproval, Revision } from './model.js';
import { toBuild, toPreviewApproval, toRevision } from './rows.js';
import type { Database } from './schema.js';

/**
 * Forge feedback's records: the handles forges gave back (to update in place), fork preview approvals, and
 * the builds of one pull request (what its comment shows and what `/retest` and `/cancel` act on).
 */

export type HandleKind = 'status' | 'deployment' | 'comment';

/** `github:octo/hello#12`: one pull/merge request, whatever app builds it. */
export const changeRequestKey = (forge: string, repo: string, number: number): string => `${forge}:${repo.toLowerCase()}#${number}`;

export async function getHandle(db: Kysely<Database>, subject: string, kind: HandleKind): Promise<string | undefined> {
  const row = await db.selectFrom('forge_handles').select('handle').where('subject', '=', subject).where('kind', '=', kind).executeTakeFirst();
  return row?.handle;
}

export interface NewHandle {
  subject: string;
  kind: HandleKind;
  handle: string;
  buildId?: string | null;
  changeRequest?: string | null;
  environment?: string | null;
}

export async function setHandle(db: Kysely<Database>, h: NewHandle): Promise<void> {
  const ts = now();
  await db
    .insertInto('forge_handles')
    .values({
      subject: h.subject,
      kind: h.kind,
      handle: h.handle,
      build_id: h.buildId ?? null,
      change_request: h.changeRequest ?? null,
      environment: h.environment ?? null,
      updated_at: ts,
    })
    .onConflict((oc) => oc.columns(['subject', 'kind']).doUpdateSet({ handle: h.handle, updated_at: ts }))
    .execute();
}

/** Deployment handles of a pull request's builds on one environment (to mark them inactive). */
export async function listDeploymentHandles(db: Kysely<Database>, changeRequest: string, environment: string): Promise<string[]> {
  const rows = await db
    .selectFrom('forge_handles')
    .select('handle')
    .where('change_request', '=', changeRequest)
    .where('kind', '=', 'deployment')
    .where('environment', '=', environment)
    .orderBy('updated_at')
    .execute();
  return rows.map((r) => r.handle);
}

/** The store stamps the time. */
export type NewApproval = Omit<PreviewApproval, 'approvedAt'>;

/** The first approval stands; a second one (another maintainer, the label after the comment) changes nothing. */
export async function recordApproval(db: Kysely<Database>, a: NewApproval): Promise<void> {
  await db
    .insertInto('preview_approvals')
    .values({
      app: a.app,
      pr_number: a.prNumber,
      forge: a.forge,
      repo: a.repo,
      approved_by: a.approvedBy,
      via: a.via,
      commit_sha: a.commit,
      approved_at: now(),
    })
    .onConflict((oc) => oc.columns(['app', 'pr_number']).doNothing())
    .execute();
}

/** Whether a fork pull request's preview may be served (promote consults it; the comment shows it). */
export async function getApproval(db: Kysely<Database>, app: string, prNumber: number): Promise<PreviewApproval | undefined> {
  const row = await db.selectFrom('preview_approvals').selectAll().where('app', '=', app).where('pr_number', '=', prNumber).executeTakeFirst();
  return row && toPreviewApproval(row);
}

/** Every build of a pull request, newest first. */
export async function listChangeRequestBuilds(db: Kysely<Database>, forge: string, repo: string, prNumber: number): Promise<Build[]> {
  const rows = await db
    .selectFrom('builds')
    .selectAll()
    .where('forge', '=', forge)
    .where('repo', '=', repo)
    .where('pr_number', '=', prNumber)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return rows.map(toBuild);
}

/** The newest build per (app, target) of a pull request: what its comment shows. */
export function newestPerTarget(builds: readonly Build[]): Build[] {
  const seen = new Map<string, Build>();
  for (const b of builds) if (!seen.has(`${b.app}\0${b.target}`)) seen.set(`${b.app}\0${b.target}`, b);
  return [...seen.values()].sort((a, b) => (a.app === b.app ? a.target.localeCompare(b.target) : a.app.localeCompare(b.app)));
}

/** The revision serving made from a build, once there is one (serving records it). */
export async function getRevisionOfBuild(db: Kysely<Database>, buildId: string): Promise<Revision | undefined> {
  const row = await db.selectFrom('revisions').selectAll().where('build_id', '=', buildId).orderBy('n', 'desc').executeTakeFirst();
  return row && toRevision(row);
}
