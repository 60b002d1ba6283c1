import type { Kysely } from 'kysely';
import { now } from './clock.js';
import type { Revision } from './model.js';
import { toRevision } from './rows.js';
import type { Database } from './schema.js';

export interface NewRevision {
  app: string;
  target: string;
  digest: string;
  buildId: string | null;
  commit: string | null;
}

/**
 * Creates revision `<app>-<n>` with n one above the highest ever used for the app. The unique
 * (app, n) constraint turns a race into a retry rather than a reused name; names are never reused
 * because deleted revisions keep their row (state `deleted`).
 */
export async function createRevision(db: Kysely<Database>, r: NewRevision): Promise<Revision> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const top = await db
      .selectFrom('revisions')
      .select((eb) => eb.fn.max('n').as('n'))
      .where('app', '=', r.app)
      .executeTakeFirst();
    const n = Number(top?.n ?? 0) + 1;
    const row = await db
      .insertInto('revisions')
      .values({
        name: `${r.app}-${n}`,
        app: r.app,
        target: r.target,
        n,
        digest: r.digest,
        build_id: r.buildId,
        commit_sha: r.commit,
        state: 'created',
        created_at: now(),
      })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (row) return toRevision(row);
  }
  throw new Error(`could not allocate a revision number for app ${r.app} after 5 attempts`);
}

export async function listRevisions(db: Kysely<Database>, app: string): Promise<Revision[]> {
  const rows = await db.selectFrom('revisions').selectAll().where('app', '=', app).orderBy('n', 'desc').execute();
  return rows.map(toRevision);
}
