import { sql, type Kysely } from 'kysely';
import { migrate, openDatabase, type OpenDatabaseOptions } from './database.js';
import type { Dialect } from './migrations.js';
import type { Database } from './schema.js';

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Round-trips a trivial query (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Opens the database and applies migrations: a process that got a Store has an up-to-date schema. */
export async function openStore(options: OpenDatabaseOptions): Promise<Store> {
  const opened = openDatabase(options);
  try {
    await migrate(opened);
  } catch (err) {
    await opened.db.destroy();
    throw err;
  }
  return {
    db: opened.db,
    dialect: opened.dialect,
    async ping() {
      await sql`select 1`.execute(opened.db);
    },
    async close() {
      await opened.db.destroy();
    },
  };
}
