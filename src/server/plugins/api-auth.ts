import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isSlipwayError } from '../../core/errors.js';
import type { ApiAuth, Principal } from '../auth/authenticate.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who sent a write request, once the auth hook let it through (issue 9). */
    principal: Principal | null;
  }
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Every write under `/api/v1` needs a token (issue 9), whichever plugin serves it: the hook runs on the
 * root instance before routing reaches any plugin, so a route added later cannot forget it. Reads stay
 * open (as before); webhooks keep their own signature checks; `/git/` authenticates in its plugin
 * (git's Basic-auth challenge differs).
 */
export function registerApiAuth(app: FastifyInstance, auth: ApiAuth): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request: FastifyRequest, reply) => {
    if (READ_METHODS.has(request.method) || !request.url.startsWith('/api/v1/')) return;
    const appName = (request.params as { app?: string } | undefined)?.app;
    try {
      request.principal = await auth.check(request.headers.authorization, appName);
    } catch (err) {
      if (isSlipwayError(err, 'SLW_AUTH_REQUIRED')) void reply.header('www-authenticate', 'Bearer realm="slipway"');
      throw err;
    }
  });
}
