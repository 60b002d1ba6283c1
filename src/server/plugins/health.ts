import type { FastifyInstance } from 'fastify';
import { SlipwayError } from '../../core/errors.js';
import type { ServerDeps } from '../deps.js';

const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms).unref())]);

/** `/healthz`: the process answers. `/readyz`: Redis and the database answer too (503 naming which does not). */
export async function healthPlugin(app: FastifyInstance, deps: ServerDeps): Promise<void> {
  app.get('/healthz', { config: { access: 'public' } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config: { access: 'public' } }, async () => {
    const checks = await Promise.allSettled([withTimeout(deps.redis.ping(), 2000, 'redis'), withTimeout(deps.store.ping(), 2000, 'database')]);
    const [redis, database] = checks.map((c) => (c.status === 'fulfilled' ? 'ok' : String((c.reason as Error).message)));
    if (redis !== 'ok' || database !== 'ok') {
      throw new SlipwayError('SLW_UNAVAILABLE', `not ready: redis ${redis}; database ${database}`, { details: { checks: { redis, database } } });
    }
    return { status: 'ok', checks: { redis, database } };
  });
}
