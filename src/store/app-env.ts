import type { Kysely } from 'kysely';
import { now } from './clock.js';
import type { AppEnvVar } from './model.js';
import { toAppEnvVar } from './rows.js';
import type { Database } from './schema.js';

/** An app's environment on one target, as stored by `slipway env` (secrets arrive sealed). */
export async function listAppEnv(db: Kysely<Database>, app: string, target: string): Promise<AppEnvVar[]> {
  const rows = await db.selectFrom('app_env').selectAll().where('app', '=', app).where('target', '=', target).orderBy('name').execute();
  return rows.map(toAppEnvVar);
}

export interface AppEnvChange {
  app: string;
  target: string;
  /** Variables to set: plain values, or sealed ones with `secret`. */
  set: { name: string; value: string; secret: boolean }[];
  unset: string[];
  by: string | null;
}

/** Applies one change (call it in the transaction that admits the revision it makes). */
export async function changeAppEnv(db: Kysely<Database>, change: AppEnvChange): Promise<void> {
  const ts = now();
  if (change.unset.length) {
    await db.deleteFrom('app_env').where('app', '=', change.app).where('target', '=', change.target).where('name', 'in', change.unset).execute();
  }
  for (const v of change.set) {
    const row = { secret: v.secret ? 1 : 0, value: v.value, updated_at: ts, updated_by: change.by };
    await db
      .insertInto('app_env')
      .values({ app: change.app, target: change.target, name: v.name, ...row })
      .onConflict((oc) => oc.columns(['app', 'target', 'name']).doUpdateSet(row))
      .execute();
  }
}
