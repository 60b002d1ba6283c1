import { chmodSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { SlipwayError } from '../core/errors.js';
import { migrationProvider, type Dialect } from './migrations.js';
import type { Database } from './schema.js';

export interface OpenDatabaseOptions {
  /** `sqlite:PATH` (`sqlite::memory:` for tests) or `postgres://…`. */
  url: string;
  /** Directory a relative SQLite path resolves against. Default: process.cwd(). */
  cwd?: string;
  /** PostgreSQL schema to use instead of `public` (tests isolate themselves this way). */
  pgSchema?: string;
}

export interface OpenedDatabase {
  db: Kysely<Database>;
  dialect: Dialect;
  /** The PostgreSQL schema in use, when not `public`. */
  pgSchema?: string;
}

export function openDatabase(options: OpenDatabaseOptions): OpenedDatabase {
  if (options.url.startsWith('sqlite:')) {
    const path = options.url.slice('sqlite:'.length);
    const file = path === ':memory:' ? path : resolve(options.cwd ?? process.cwd(), path);
    // The database holds build logs, errors and the audit trail: readable by Slipway's user only.
    // SQLite gives the -wal and -shm files the main file's mode.
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const sqlite = new BetterSqlite3(file);
    if (file !== ':memory:') chmodSync(file, 0o600);
    // WAL lets the API read while a worker writes; busy_timeout waits out a writer instead of
    // failing with SQLITE_BUSY when `slipway server` and `slipway worker` share one file.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) }), dialect: 'sqlite' };
  }
  if (/^postgres(ql)?:\/\//.test(options.url)) {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: 10,
      ...(options.pgSchema ? { options: `-c search_path=${options.pgSchema}` } : {}),
    });
    return {
      db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }),
      dialect: 'postgres',
      ...(options.pgSchema ? { pgSchema: options.pgSchema } : {}),
    };
  }
  throw new SlipwayError('SLW_CONFIG_INVALID', `database "${options.url.split(':')[0]}:…" is not supported: use sqlite:PATH or postgres://…`);
}

/** Applies pending migrations; fails start-up with the migration's name and error. */
export async function migrate(opened: OpenedDatabase): Promise<string[]> {
  // Kysely looks for its migration tables in every schema unless told which: a lock table left in another
  // schema (a test run that was killed) would make it skip creating its own and then fail to find it.
  const migrator = new Migrator({
    db: opened.db,
    provider: migrationProvider(opened.dialect),
    ...(opened.pgSchema ? { migrationTableSchema: opened.pgSchema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    throw new SlipwayError('SLW_STORE', `database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? String(error)}`, {
      cause: error,
    });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
