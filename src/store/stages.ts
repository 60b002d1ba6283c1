import type { Kysely } from 'kysely';
import { now } from './clock.js';
import type { StageRun } from './model.js';
import { toStageRun } from './rows.js';
import type { Database } from './schema.js';

/**
 * Per-stage checkpoints. A stage row in `done` carries the stage's output; a build resumed after a
 * crash skips every stage that is done and starts at the first that is not.
 */
export async function beginStage(db: Kysely<Database>, buildId: string, stage: string): Promise<void> {
  const ts = now();
  await db
    .insertInto('build_stages')
    .values({ build_id: buildId, stage, state: 'running', started_at: ts, finished_at: null, duration_ms: null, output: null })
    .onConflict((oc) => oc.columns(['build_id', 'stage']).doUpdateSet({ state: 'running', started_at: ts, finished_at: null, duration_ms: null }))
    .execute();
}

export async function finishStage(
  db: Kysely<Database>,
  buildId: string,
  stage: string,
  state: 'done' | 'failed' | 'canceled',
  durationMs: number,
  output: unknown = null,
): Promise<void> {
  await db
    .updateTable('build_stages')
    .set({ state, finished_at: now(), duration_ms: Math.round(durationMs), output: output === null ? null : JSON.stringify(output) })
    .where('build_id', '=', buildId)
    .where('stage', '=', stage)
    .execute();
}

export async function listStages(db: Kysely<Database>, buildId: string): Promise<StageRun[]> {
  const rows = await db.selectFrom('build_stages').selectAll().where('build_id', '=', buildId).orderBy('started_at').execute();
  return rows.map(toStageRun);
}
