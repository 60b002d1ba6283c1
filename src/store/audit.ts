import type { Kysely } from 'kysely';
import { now } from './clock.js';
import type { PolicyDecision } from './model.js';
import { toPolicyDecision } from './rows.js';
import type { Database } from './schema.js';

export type NewDecision = Omit<PolicyDecision, 'id' | 'createdAt'>;

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

export async function listDecisions(db: Kysely<Database>, buildId: string): Promise<PolicyDecision[]> {
  const rows = await db.selectFrom('audit_decisions').selectAll().where('build_id', '=', buildId).orderBy('id').execute();
  return rows.map(toPolicyDecision);
}
