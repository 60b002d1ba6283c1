import type { Kysely } from 'kysely';
import type { Delivery } from './model.js';
import { toDelivery } from './rows.js';
import type { Database } from './schema.js';

/** A delivery as it arrives: its builds are set once they are made (setDeliveryBuilds). */
export type NewDelivery = Omit<Delivery, 'buildIds'>;

/** Records a delivery; false when the forge already delivered this id (dedupe by primary key). */
export async function insertDelivery(db: Kysely<Database>, d: NewDelivery): Promise<boolean> {
  const row = await db
    .insertInto('deliveries')
    .values({
      forge: d.forge,
      delivery_id: d.deliveryId,
      event: d.event,
      repo: d.repo,
      received_at: d.receivedAt,
      outcome: d.outcome,
      reason: d.reason,
      build_ids: '[]',
    })
    .onConflict((oc) => oc.doNothing())
    .returning('delivery_id')
    .executeTakeFirst();
  return row !== undefined;
}

export async function setDeliveryBuilds(db: Kysely<Database>, forge: string, deliveryId: string, buildIds: string[], reason: string | null): Promise<void> {
  await db
    .updateTable('deliveries')
    .set({ build_ids: JSON.stringify(buildIds), reason, outcome: buildIds.length > 0 ? 'accepted' : 'ignored' })
    .where('forge', '=', forge)
    .where('delivery_id', '=', deliveryId)
    .execute();
}

export async function getDelivery(db: Kysely<Database>, forge: string, deliveryId: string): Promise<Delivery | undefined> {
  const row = await db.selectFrom('deliveries').selectAll().where('forge', '=', forge).where('delivery_id', '=', deliveryId).executeTakeFirst();
  return row && toDelivery(row);
}
