import type { Kysely } from 'kysely';
import type { BuildStep } from './model.js';
import { toBuildStep } from './rows.js';
import type { Database } from './schema.js';

export type NewBuildStep = Omit<BuildStep, 'buildId'>;

/**
 * Stores the steps of a build's image build, replacing those of an earlier try: a retried build
 * shows the steps of the try that counts, not a mix.
 */
export async function replaceBuildSteps(db: Kysely<Database>, buildId: string, steps: readonly NewBuildStep[]): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await tx.deleteFrom('build_steps').where('build_id', '=', buildId).execute();
    // Chunks keep each insert under SQLite's bound-parameter limit however long the build.
    for (let i = 0; i < steps.length; i += 100) {
      await tx
        .insertInto('build_steps')
        .values(
          steps.slice(i, i + 100).map((s) => ({
            build_id: buildId,
            idx: s.index,
            name: s.name,
            digest: s.digest,
            cached: s.cached ? 1 : 0,
            started_at: s.startedAt,
            completed_at: s.completedAt,
            duration_ms: s.durationMs === null ? null : Math.round(s.durationMs),
            error: s.error,
          })),
        )
        .execute();
    }
  });
}

export async function listBuildSteps(db: Kysely<Database>, buildId: string): Promise<BuildStep[]> {
  const rows = await db.selectFrom('build_steps').selectAll().where('build_id', '=', buildId).orderBy('idx').execute();
  return rows.map(toBuildStep);
}
