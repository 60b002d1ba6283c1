import type { Kysely } from 'kysely';
import { now } from './clock.js';
import { createRevision, type NewRevision } from './revisions.js';
import type { Database, RevisionRow, RouteRow } from './schema.js';

/**
 * Serving state: revisions with what they run, and each app's traffic per target. Rows only;
 * the serving targets see them through the `ServingState` interface they declare (src/targets/types.ts).
 */

export interface NewServingRevision extends NewRevision {
  image: string;
  buildCreatedAt: string | null;
  /** JSON text. */
  spec: string;
}

/** Allocates `<app>-<n>` (createRevision: n above every n ever used) and records what it runs, atomically. */
export async function createServingRevision(db: Kysely<Database>, r: NewServingRevision): Promise<RevisionRow> {
  return db.transaction().execute(async (trx) => {
    const row = await createRevision(trx, r);
    return trx
      .updateTable('revisions')
      .set({ image: r.image, build_created_at: r.buildCreatedAt, spec: r.spec })
      .where('app', '=', row.app)
      .where('name', '=', row.name)
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

export async function getRevision(db: Kysely<Database>, app: string, name: string): Promise<RevisionRow | undefined> {
  return db.selectFrom('revisions').selectAll().where('app', '=', app).where('name', '=', name).executeTakeFirst();
}

/** The live revision a build already made on a target (promotion is idempotent per build and digest). */
export async function findRevisionForBuild(
  db: Kysely<Database>,
  q: { app: string; target: string; buildId: string; digest: string },
): Promise<RevisionRow | undefined> {
  return db
    .selectFrom('revisions')
    .selectAll()
    .where('app', '=', q.app)
    .where('target', '=', q.target)
    .where('build_id', '=', q.buildId)
    .where('digest', '=', q.digest)
    .where('state', 'in', ['created', 'ready'])
    .orderBy('n', 'desc')
    .executeTakeFirst();
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
export async function listLiveTargetRevisions(db: Kysely<Database>, target: string): Promise<RevisionRow[]> {
  return db.selectFrom('revisions').selectAll().where('target', '=', target).where('state', '<>', 'deleted').orderBy('app').orderBy('n', 'desc').execute();
}

export async function getRoute(db: Kysely<Database>, app: string, target: string): Promise<RouteRow | undefined> {
  return db.selectFrom('routes').selectAll().where('app', '=', app).where('target', '=', target).executeTakeFirst();
}

export async function listRoutes(db: Kysely<Database>, target: string): Promise<RouteRow[]> {
  return db.selectFrom('routes').selectAll().where('target', '=', target).orderBy('app').execute();
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
