import type { Kysely } from 'kysely';
import { now } from './clock.js';
import type { LogLevel, LogLine } from './model.js';
import { toLogLine } from './rows.js';
import type { Database } from './schema.js';

export interface NewLogLine {
  buildId: string;
  stage: string | null;
  level: LogLevel;
  line: string;
}

/** Appends a line; its id orders lines within a build and lets a follower resume after it. */
export async function appendLog(db: Kysely<Database>, entry: NewLogLine): Promise<LogLine> {
  const row = await db
    .insertInto('build_logs')
    .values({ build_id: entry.buildId, ts: now(), stage: entry.stage, level: entry.level, line: entry.line })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toLogLine(row);
}

export async function logsAfter(db: Kysely<Database>, buildId: string, afterId = 0, limit = 1000): Promise<LogLine[]> {
  const rows = await db.selectFrom('build_logs').selectAll().where('build_id', '=', buildId).where('id', '>', afterId).orderBy('id').limit(limit).execute();
  return rows.map(toLogLine);
}
