export { openStore, type Store } from './store.js';
export type { OpenDatabaseOptions } from './database.js';
export * from './builds.js';
export * from './deliveries.js';
export * from './logs.js';
export * from './stages.js';
export * from './audit.js';
export * from './revisions.js';
export * from './serving.js';
export * from './steps.js';
export type * from './model.js';
/** The database handle store functions take; its tables (schema.ts) stay inside the store. */
export type { Database } from './schema.js';
export * from './feedback.js';
export * from './runtime-events.js';
export * from './app-env.js';
