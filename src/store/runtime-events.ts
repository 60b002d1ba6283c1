import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { RuntimeEvent } from './model.js';
import { toRuntimeEvent } from './rows.js';
import type { Database } from './schema.js';

/**
 * Runtime decisions of the enforcer, as rows counted per minute: one row per (app, revision, minute,
 * decision, rule, path). Writers add counts (upsert), so a crash loop that prints the same denial
 * thousands of times makes one row, not thousands. What a row says came from a container's stderr:
 * see src/injection/decision-line.ts on why it is shown, never trusted.
 */

/** A count to add: a runtime event before the store gave it an id. */
export type RuntimeEventCount = Omit<RuntimeEvent, 'id'>;

export function runtimeEventKey(e: Pick<RuntimeEventCount, 'app' | 'revision' | 'minute' | 'decision' | 'rule' | 'path'>): string {
  return createHash('sha256').update([e.app, e.revision, e.minute, e.decision, e.rule, e.path].join('\0')).digest('hex');
}

/** Adds the counts (one statement per row, in one transaction). */
export async function addRuntimeEvents(db: Kysely<Database>, counts: readonly RuntimeEventCount[]): Promise<void> {
  if (counts.length === 0) return;
  await db.transaction().execute(async (trx) => {
    for (const e of counts) {
      await trx
        .insertInto('runtime_events')
        .values({
          dedupe: runtimeEventKey(e),
          app: e.app,
          target: e.target,
          revision: e.revision,
          container: e.container,
          minute: e.minute,
          decision: e.decision,
          rule: e.rule,
          syscall: e.syscall,
          path: e.path,
          sha256: e.sha256,
          uid: e.uid,
          parent: e.parent,
          first_at: e.firstAt,
          last_at: e.lastAt,
          count: e.count,
        })
        .onConflict((oc) =>
          oc.column('dedupe').doUpdateSet((eb) => ({
            count: eb('runtime_events.count', '+', eb.ref('excluded.count')),
            last_at: eb.ref('excluded.last_at'),
            container: eb.ref('excluded.container'),
            sha256: eb.ref('excluded.sha256'),
            uid: eb.ref('excluded.uid'),
            parent: eb.ref('excluded.parent'),
          })),
        )
        .execute();
    }
  });
}

export interface RuntimeEventQuery {
  app: string;
  revision?: string;
  /** ISO: rows whose last line came at or after this time. */
  since?: string;
  limit: number;
}

/** Newest first (by the last line counted). */
export async function listRuntimeEvents(db: Kysely<Database>, q: RuntimeEventQuery): Promise<RuntimeEvent[]> {
  let query = db.selectFrom('runtime_events').selectAll().where('app', '=', q.app);
  if (q.revision !== undefined) query = query.where('revision', '=', q.revision);
  if (q.since !== undefined) query = query.where('last_at', '>=', q.since);
  const rows = await query.orderBy('last_at', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
  return rows.map(toRuntimeEvent);
}

/** The Engine time of the last line stored for a container: where following it again resumes. */
export async function lastRuntimeEventAt(db: Kysely<Database>, container: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('runtime_events')
    .select((eb) => eb.fn.max('last_at').as('at'))
    .where('container', '=', container)
    .executeTakeFirst();
  return row?.at ?? undefined;
}

export interface RuntimeSummary {
  revision: string;
  denied: number;
  audited: number;
  /** First line counted. */
  since: string;
}

/** Denied and audited counts of a revision (what a pull request comment says about it). */
export async function runtimeSummary(db: Kysely<Database>, app: string, revision: string): Promise<RuntimeSummary | undefined> {
  const rows = await db
    .selectFrom('runtime_events')
    .select((eb) => ['decision', eb.fn.sum<number | string>('count').as('n'), eb.fn.min<string>('first_at').as('since')])
    .where('app', '=', app)
    .where('revision', '=', revision)
    .where('decision', 'in', ['denied', 'audited'])
    .groupBy('decision')
    .execute();
  if (rows.length === 0) return undefined;
  const n = (d: string) => Number(rows.find((r) => r.decision === d)?.n ?? 0);
  return { revision, denied: n('denied'), audited: n('audited'), since: rows.map((r) => r.since).sort()[0]! };
}

/** Whether the store knows the app at all (revisions or events), for 404s on apps not configured. */
export async function appHasRecords(db: Kysely<Database>, app: string): Promise<boolean> {
  const rev = await db.selectFrom('revisions').select('name').where('app', '=', app).limit(1).executeTakeFirst();
  if (rev) return true;
  const ev = await db.selectFrom('runtime_events').select('id').where('app', '=', app).limit(1).executeTakeFirst();
  return ev !== undefined;
}
