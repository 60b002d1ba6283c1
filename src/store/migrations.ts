import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

export type Dialect = 'sqlite' | 'postgres';

/**
 * Migrations are code in this file, ordered by name, applied at start by Kysely's Migrator (which
 * takes a lock, so two processes starting together do not race). Never edit a shipped migration:
 * add the next one.
 */
export function migrationProvider(dialect: Dialect): MigrationProvider {
  // SQLite's rowid alias vs PostgreSQL's identity column: the only per-dialect difference.
  const serial = (db: Kysely<unknown>, table: string) =>
    db.schema
      .createTable(table)
      .addColumn('id', dialect === 'sqlite' ? 'integer' : 'bigserial', (col) => (dialect === 'sqlite' ? col.primaryKey().autoIncrement() : col.primaryKey()));

  const migrations: Record<string, Migration> = {
    '0001_backbone': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('deliveries')
          .addColumn('forge', 'text', (c) => c.notNull())
          .addColumn('delivery_id', 'text', (c) => c.notNull())
          .addColumn('event', 'text', (c) => c.notNull())
          .addColumn('repo', 'text')
          .addColumn('received_at', 'text', (c) => c.notNull())
          .addColumn('outcome', 'text', (c) => c.notNull())
          .addColumn('reason', 'text')
          .addColumn('build_ids', 'text', (c) => c.notNull().defaultTo('[]'))
          .addPrimaryKeyConstraint('deliveries_pk', ['forge', 'delivery_id'])
          .execute();

        await db.schema
          .createTable('builds')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('app', 'text', (c) => c.notNull())
          .addColumn('target', 'text', (c) => c.notNull())
          .addColumn('commit_sha', 'text', (c) => c.notNull())
          .addColumn('ref', 'text', (c) => c.notNull())
          .addColumn('scope', 'text', (c) => c.notNull())
          .addColumn('trigger', 'text', (c) => c.notNull())
          .addColumn('forge', 'text')
          .addColumn('delivery_id', 'text')
          .addColumn('repo', 'text')
          .addColumn('clone_url', 'text', (c) => c.notNull())
          .addColumn('fork', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('pr_number', 'integer')
          .addColumn('sender', 'text')
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('stage', 'text')
          .addColumn('digest', 'text')
          .addColumn('error_code', 'text')
          .addColumn('error_message', 'text')
          .addColumn('dedupe_key', 'text', (c) => c.notNull())
          .addColumn('superseded_by', 'text')
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('started_at', 'text')
          .addColumn('finished_at', 'text')
          .execute();
        // The same (app, target, commit) makes one build, unless that build was canceled (a later push
        // of the same commit after it was superseded must build again).
        await db.schema.createIndex('builds_dedupe').on('builds').column('dedupe_key').unique().where(sql.ref('state'), '<>', 'canceled').execute();
        await db.schema.createIndex('builds_app_created').on('builds').columns(['app', 'created_at']).execute();
        await db.schema.createIndex('builds_scope').on('builds').columns(['app', 'target', 'scope', 'state']).execute();
        await db.schema.createIndex('builds_state').on('builds').columns(['state', 'created_at']).execute();

        await db.schema
          .createTable('build_stages')
          .addColumn('build_id', 'text', (c) => c.notNull())
          .addColumn('stage', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('started_at', 'text', (c) => c.notNull())
          .addColumn('finished_at', 'text')
          .addColumn('duration_ms', 'integer')
          .addColumn('output', 'text')
          .addPrimaryKeyConstraint('build_stages_pk', ['build_id', 'stage'])
          .execute();

        await serial(db, 'build_logs')
          .addColumn('build_id', 'text', (c) => c.notNull())
          .addColumn('ts', 'text', (c) => c.notNull())
          .addColumn('stage', 'text')
          .addColumn('level', 'text', (c) => c.notNull())
          .addColumn('line', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('build_logs_build').on('build_logs').columns(['build_id', 'id']).execute();

        await serial(db, 'audit_decisions')
          .addColumn('build_id', 'text')
          .addColumn('gate', 'text', (c) => c.notNull())
          .addColumn('policy', 'text', (c) => c.notNull())
          .addColumn('rule_index', 'integer')
          .addColumn('mode', 'text', (c) => c.notNull())
          .addColumn('outcome', 'text', (c) => c.notNull())
          .addColumn('message', 'text', (c) => c.notNull())
          .addColumn('subject', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('audit_decisions_build').on('audit_decisions').columns(['build_id', 'id']).execute();

        await db.schema
          .createTable('revisions')
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('app', 'text', (c) => c.notNull())
          .addColumn('target', 'text', (c) => c.notNull())
          .addColumn('n', 'integer', (c) => c.notNull())
          .addColumn('digest', 'text', (c) => c.notNull())
          .addColumn('build_id', 'text')
          .addColumn('commit_sha', 'text')
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('revisions_pk', ['app', 'name'])
          .addUniqueConstraint('revisions_app_n', ['app', 'n'])
          .execute();
      },
    },
    // The steps of a build's image build (BuildKit vertices), shown in GET /api/v1/builds/:id.
    '0002_build_steps': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('build_steps')
          .addColumn('build_id', 'text', (c) => c.notNull())
          .addColumn('idx', 'integer', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('digest', 'text', (c) => c.notNull())
          .addColumn('cached', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('started_at', 'text')
          .addColumn('completed_at', 'text')
          .addColumn('duration_ms', 'integer')
          .addColumn('error', 'text')
          .addPrimaryKeyConstraint('build_steps_pk', ['build_id', 'idx'])
          .execute();
      },
    },
    // Serving: what a revision runs and which build made it (promotion is monotonic in build
    // creation order), and each app's traffic per target as one JSON document with a generation, so
    // writers compare-and-set instead of racing.
    '0003_serving': {
      async up(db: Kysely<unknown>) {
        // One column per statement: SQLite's ALTER TABLE adds a single column at a time.
        for (const column of ['image', 'build_created_at', 'spec', 'message', 'promoted_at']) {
          await db.schema.alterTable('revisions').addColumn(column, 'text').execute();
        }
        await db.schema.createIndex('revisions_build').on('revisions').columns(['app', 'target', 'build_id']).execute();
        await db.schema
          .createTable('routes')
          .addColumn('app', 'text', (c) => c.notNull())
          .addColumn('target', 'text', (c) => c.notNull())
          .addColumn('traffic', 'text', (c) => c.notNull())
          .addColumn('generation', 'integer', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('routes_pk', ['app', 'target'])
          .execute();
      },
    },
    // Forge feedback: what Slipway told the forges (check run, comment and deployment ids, to update in place)
    // and which fork pull requests a maintainer approved for previews.
    '0004_forge_feedback': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('forge_handles')
          .addColumn('subject', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('handle', 'text', (c) => c.notNull())
          .addColumn('build_id', 'text')
          .addColumn('change_request', 'text')
          .addColumn('environment', 'text')
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('forge_handles_pk', ['subject', 'kind'])
          .execute();
        await db.schema.createIndex('forge_handles_change_request').on('forge_handles').columns(['change_request', 'kind']).execute();
        await db.schema
          .createTable('preview_approvals')
          .addColumn('app', 'text', (c) => c.notNull())
          .addColumn('pr_number', 'integer', (c) => c.notNull())
          .addColumn('forge', 'text', (c) => c.notNull())
          .addColumn('repo', 'text', (c) => c.notNull())
          .addColumn('approved_by', 'text', (c) => c.notNull())
          .addColumn('via', 'text', (c) => c.notNull())
          .addColumn('commit_sha', 'text')
          .addColumn('approved_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('preview_approvals_pk', ['app', 'pr_number'])
          .execute();
        await db.schema.createIndex('builds_change_request').on('builds').columns(['forge', 'repo', 'pr_number']).execute();
      },
    },
    // Image promotions record which build made the digest they promote (and the promotions API looks it
    // up by digest to refuse an unapproved fork's image).
    '0005_image_origin': {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('builds').addColumn('source_build', 'text').execute();
        await db.schema.createIndex('builds_digest').on('builds').column('digest').execute();
      },
    },
    // What the enforcer decided at run time (decision lines read from containers' stderr). One row per
    // (app, revision, minute, decision, rule, path), counted: `dedupe` is a hash of that tuple, so paths
    // of any length fit one unique index on both dialects and a burst only raises `count`.
    '0006_runtime_events': {
      async up(db: Kysely<unknown>) {
        await serial(db, 'runtime_events')
          .addColumn('dedupe', 'text', (c) => c.notNull().unique())
          .addColumn('app', 'text', (c) => c.notNull())
          .addColumn('target', 'text', (c) => c.notNull())
          .addColumn('revision', 'text', (c) => c.notNull())
          .addColumn('container', 'text', (c) => c.notNull())
          .addColumn('minute', 'text', (c) => c.notNull())
          .addColumn('decision', 'text', (c) => c.notNull())
          .addColumn('rule', 'text', (c) => c.notNull())
          .addColumn('syscall', 'text', (c) => c.notNull())
          .addColumn('path', 'text', (c) => c.notNull())
          .addColumn('sha256', 'text')
          .addColumn('uid', 'bigint')
          .addColumn('parent', 'text')
          .addColumn('first_at', 'text', (c) => c.notNull())
          .addColumn('last_at', 'text', (c) => c.notNull())
          .addColumn('count', 'integer', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('runtime_events_app').on('runtime_events').columns(['app', 'last_at']).execute();
        await db.schema.createIndex('runtime_events_revision').on('runtime_events').columns(['app', 'revision', 'last_at']).execute();
        await db.schema.createIndex('runtime_events_container').on('runtime_events').columns(['container', 'last_at']).execute();
      },
    },
    // An app's environment per target (`slipway env`): plain values as they are, secrets sealed with
    // AES-256-GCM before they reach this table.
    '0007_app_env': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('app_env')
          .addColumn('app', 'text', (c) => c.notNull())
          .addColumn('target', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('secret', 'integer', (c) => c.notNull())
          .addColumn('value', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('updated_by', 'text')
          .addPrimaryKeyConstraint('app_env_pk', ['app', 'target', 'name'])
          .execute();
      },
    },
  };
  return { getMigrations: async () => migrations };
}
