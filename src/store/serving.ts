import type { Kysely } from 'kysely';
import { now } from './clock.js';
import { createRevision, type NewRevision } from './revisions.js';
import type { Revision, Route } from './model.js';
import { toRevision, toRoute } from './rows.js';
import type { Database } from './schema.js';

/**
 * Serving state: revisions with what they run, and each app's traffic per target. Spec and traffic are
 * JSON text here; the serving targets see them through the `ServingState` interface they declare (src/targets/types.ts).
 */

export interface NewServingRevision extends NewRevision {
  image: string;
  buildCreatedAt: string | null;
  /** JSON text. */
  spec: string;
}

/** Allocates `<app>-<n>` (createRevision: n above every n ever used) and records what it runs, atomically. */
export async function createServingRevision(db: Kysely<Database>, r: NewServingRevision): Promise<Revision> {
  return db.transaction().execute(async (trx) => {
    const made = await createRevision(trx, r);
    const row = await trx
      .updateTable('revisions')
      .set({ image: r.image, build_created_at: r.buildCreatedAt, spec: r.spec })
      .where('app', '=', made.app)
      .where('name', '=', made.name)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRevision(row);
  });
}

export async function getRevision(db: Kysely<Database>, app: string, name: string): Promise<Revision | undefined> {
  const row = await db.selectFrom('revisions').selectAll().where('app', '=', app).where('name', '=', name).executeTakeFirst();
  return row && toRevision(row);
}

/** The live revision a build already made on a target (promotion is idempotent per build and digest). */
export async function findRevisionForBuild(
  db: Kysely<Database>,
  q: { app: string; target: string; buildId: string; digest: string },
): Promise<Revision | undefined> {
  const row = await db
    .selectFrom('revisions')
    .selectAll()
    .where('app', '=', q.app)
    .where('target', '=', q.target)
    .where('build_id', '=', q.buildId)
    .where('digest', '=', q.digest)
    .where('state', 'in', ['created', 'ready'])
    .orderBy('n', 'desc')
    .executeTakeFirst();
  return row && toRevision(row);
}

export interface RevisionPatch {
  state?: string;
  message?: string | null;
  promotedAt?: string;
}

export async function updateRevision(db: Kysely<Database>, app: string, name: string, patch: RevisionPatch): Promise<void> {
  await db
    .updateTable('revisions')
    .set({
      ...(patch.state !== undefined ? { state: patch.state } : {}),
      ...(patch.message !== undefined ? { message: patch.message } : {}),
      ...(patch.promotedAt !== undefined ? { promoted_at: patch.promotedAt } : {}),
    })
    .where('app', '=', app)
    .where('name', '=', name)
    .execute();
}

/** Revisions of every app on a target that are not deleted, newest first per app (what a router serves). */
export async function listLiveTargetRevisions(db: Kysely<Database>, target: string): Promise<Revision[]> {
  const rows = await db
    .selectFrom('revisions')
    .selectAll()
    .where('target', '=', target)
    .where('state', '<>', 'deleted')
    .orderBy('app')
    .orderBy('n', 'desc')
    .execute();
  return rows.map(toRevision);
}

export async function getRoute(db: Kysely<Database>, app: string, target: string): Promise<Route | undefined> {
  const row = await db.selectFrom('routes').selectAll().where('app', '=', app).where('target', '=', target).executeTakeFirst();
  return row && toRoute(row);
}

export async function listRoutes(db: Kysely<Database>, target: string): Promise<Route[]> {
  const rows = await db.selectFrom('routes').selectAll().where('target', '=', target).orderBy('app').execute();
  return rows.map(toRoute);
}

/**
 * Compare-and-set of an app's traffic: writes generation `expected + 1` only if the stored generation is
 * still `expected` (0: no route yet). Returns false when another writer got there first, so callers
 * decide again on fresh state instead of overwriting it (promotion stays monotonic across processes).
 */
export async function putRoute(db: Kysely<Database>, app: string, target: string, traffic: string, expected: number): Promise<boolean> {
  const at = now();
  if (expected === 0) {
    const inserted = await db
      .insertInto('routes')
      .values({ app, target, traffic, generation: 1, updated_at: at })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1;
  }
  const updated = await db
    .updateTable('routes')
    .set({ traffic, generation: expected + 1, updated_at: at })
    .where('app', '=', app)
    .where('target', '=', target)
    .where('generation', '=', expected)
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) === 1;
}
