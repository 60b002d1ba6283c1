export { openStore, type Store } from './store.js';
export type { OpenDatabaseOptions } from './database.js';
export * from './builds.js';
export * from './deliveries.js';
export * from './logs.js';
export * from './stages.js';
export * from './audit.js';
export * from './revisions.js';
export type * from './schema.js';
