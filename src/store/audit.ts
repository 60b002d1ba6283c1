import type { Kysely } from 'kysely';
import { now } from './clock.js';
import type { AuditDecisionRow, Database } from './schema.js';

export interface NewDecision {
  buildId: string | null;
  gate: 'source' | 'build' | 'image' | 'promote';
  policy: string;
  ruleIndex: number | null;
  mode: 'enforce' | 'audit';
  outcome: 'allow' | 'deny' | 'warn';
  message: string;
  /** What was judged: a digest, a commit, a ref. */
  subject: string | null;
}

/** Every policy decision is recorded: allow as well as deny, so the record shows what ran. */
export async function recordDecision(db: Kysely<Database>, d: NewDecision): Promise<void> {
  await db
    .insertInto('audit_decisions')
    .values({
      build_id: d.buildId,
      gate: d.gate,
      policy: d.policy,
      rule_index: d.ruleIndex,
      mode: d.mode,
      outcome: d.outcome,
      message: d.message,
      subject: d.subject,
      created_at: now(),
    })
    .execute();
}

export async function listDecisions(db: Kysely<Database>, buildId: string): Promise<AuditDecisionRow[]> {
  return db.selectFrom('audit_decisions').selectAll().where('build_id', '=', buildId).orderBy('id').execute();
}
