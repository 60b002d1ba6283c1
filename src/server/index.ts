export { buildServer } from './app.js';
export type { ServerDeps } from './deps.js';
export { buildView, type BuildDetailView, type BuildView } from './views.js';
export { planBuilds } from './ingest/plan.js';
export { ingestDelivery } from './ingest/ingest.js';
