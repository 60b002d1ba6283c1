import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/index.js';

/** PostgreSQL as it runs on these machines (DESIGN.md); SLIPWAY_TEST_POSTGRES_URL overrides. */
export const TEST_POSTGRES_URL = process.env.SLIPWAY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestStore {
  name: 'sqlite' | 'postgres';
  store: Store;
  cleanup(): Promise<void>;
}

/** A fresh SQLite database in memory. */
export async function sqliteStore(): Promise<TestStore> {
  const store = await openStore({ url: 'sqlite::memory:' });
  return { name: 'sqlite', store, cleanup: () => store.close() };
}

/** A fresh PostgreSQL schema, dropped afterwards: suites never see each other's rows. */
export async function postgresStore(): Promise<TestStore> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const store = await openStore({ url: TEST_POSTGRES_URL, pgSchema: schema });
  return {
    name: 'postgres',
    store,
    async cleanup() {
      await store.close();
      const c = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await c.connect();
      await c.query(`drop schema ${schema} cascade`);
      await c.end();
    },
  };
}

export const STORE_FACTORIES = [
  ['sqlite', sqliteStore],
  ['postgres', postgresStore],
] as const;
