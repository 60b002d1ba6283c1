import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../deps.js';

/** `/metrics` in Prometheus text format; queue depth is read from Redis at scrape time. */
export async function metricsPlugin(app: FastifyInstance, deps: ServerDeps): Promise<void> {
  app.get('/metrics', { config: { access: 'read' } }, async (_request, reply) => {
    const depth = await deps.queue.depth().catch(() => undefined);
    if (depth) for (const [state, n] of Object.entries(depth)) deps.metrics.queueDepth.set({ state }, n);
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
}
